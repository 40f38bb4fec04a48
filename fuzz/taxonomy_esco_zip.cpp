// ESCO's official export as downloaded: one zip of CSV files (read_esco_export), with the
// version taken from the archive's name.
#include "fuzz_util.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "taxonomy_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("ESCO dataset - v1.2.0 - classification - de - csv.zip",
                                        fuzz::as_text(data, size));
  try {
    const TaxonomyData d = read_esco_export(path, "esco", "", "de");
    FUZZ_CHECK(d.info.version == "1.2.0");
    fuzz::check_taxonomy(d);
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
