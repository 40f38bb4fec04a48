// ESCO's CSV files: a skills file in any of its layouts (read_esco_skills), the same file as a
// collection (read_esco_collection) and the hierarchy (read_esco_hierarchy). The input holds
// three parts separated by lines "----": the skills CSV, skillGroups_de.csv and
// broaderRelationsSkillPillar.csv.
#include "fuzz_util.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "taxonomy_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_parts(fuzz::as_text(data, size), 3);
  const auto dir = fuzz::fresh_dir("esco");
  const auto skills = fuzz::write_scratch("esco/skills_de.csv", parts[0]);
  const auto groups = fuzz::write_scratch("esco/skillGroups_de.csv", parts[1]);
  const auto broader = fuzz::write_scratch("esco/broaderRelationsSkillPillar.csv", parts[2]);
  try {
    TaxonomyData d = read_esco_skills(skills, "esco", "1.1.0", "de");
    fuzz::check_taxonomy(d);
    read_esco_hierarchy(broader, groups, d);
    fuzz::check_taxonomy(d);
  } catch (const Error& e) {
    fuzz::expect_error(e, dir.string());
  }
  try {
    for (const auto& uri : read_esco_collection(skills)) fuzz::check_text(uri);
  } catch (const Error& e) {
    fuzz::expect_error(e, skills.string());
  }
  return 0;
}
