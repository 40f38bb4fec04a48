// GRETA's facet list (read_greta): skills, their areas and aspects as the hierarchy.
#include "fuzz_util.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "taxonomy_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("greta_facets_de.csv", fuzz::as_text(data, size));
  try {
    const TaxonomyData d = read_greta(path);
    fuzz::check_taxonomy(d);
    for (const SkillRecord& r : d.skills) FUZZ_CHECK(r.broader.size() == 1);
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
