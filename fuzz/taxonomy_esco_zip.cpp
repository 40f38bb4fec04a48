// ESCO's official export as downloaded: one zip of CSV files (read_esco_export), with the version
// taken from the archive's name. An input that starts with "PK" is the archive itself. Any other
// is four parts separated by lines "----" (skills_de.csv, skillGroups_de.csv,
// broaderRelationsSkillPillar_de.csv, greenSkillsCollection_de.csv; an empty part leaves its
// entry out), stored in a valid archive: mutated archives rarely pass their CRCs, so this is how
// mutations reach the CSV readers behind them.
#include "fuzz_util.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "taxonomy_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  std::string archive;
  if (input.substr(0, 2) != "PK") {
    static const char* const kNames[] = {"skills_de.csv", "skillGroups_de.csv",
                                         "broaderRelationsSkillPillar_de.csv",
                                         "greenSkillsCollection_de.csv"};
    const auto parts = fuzz::split_parts(input, 4);
    std::vector<std::pair<std::string, std::string_view>> entries;
    for (std::size_t i = 0; i < 4; ++i) {
      if (i == 0 || !parts[i].empty()) entries.emplace_back(kNames[i], parts[i]);
    }
    archive = fuzz::stored_zip(entries);
  }
  const auto path = fuzz::write_scratch("ESCO dataset - v1.2.0 - classification - de - csv.zip",
                                        archive.empty() ? input : archive);
  try {
    const TaxonomyData d = read_esco_export(path, "esco", "", "de");
    FUZZ_CHECK(d.info.version == "1.2.0");
    fuzz::check_taxonomy(d);
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
