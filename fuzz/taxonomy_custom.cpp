// A custom taxonomy (read_custom_taxonomy): JSON Lines when the input starts with '{', else CSV;
// read with the default column mapping and again with other names and an empty separator.
#include "fuzz_util.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "taxonomy_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const bool jsonl = !text.empty() && text.front() == '{';
  const auto path = fuzz::write_scratch(jsonl ? "custom.jsonl" : "custom.csv", text);
  ColumnMapping other;
  other.uri = "id";
  other.label = "name";
  other.alt_labels = "synonyms";
  other.alt_separator = "";
  for (const ColumnMapping& m : {ColumnMapping{}, other}) {
    try {
      const TaxonomyData d = read_custom_taxonomy(path, "custom", m);
      fuzz::check_taxonomy(d);
    } catch (const Error& e) {
      fuzz::expect_error(e, path.string());
    }
  }
  return 0;
}
