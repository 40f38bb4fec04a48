#include "engine/shipped_data.h"

#include "skillmatch/catalog/taxonomy_import.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

// What the workspace's "defaults.state" says once the shipped data is imported. Bump it when
// data/ changes ("done": ESCO skills + collections and GRETA; "done-2": + the hierarchy).
constexpr const char* kShippedDataRevision = "done-2";

}  // namespace

ImportReport import_shipped_data(Workspace& ws, const fs::path& data_dir, const LogFn& log) {
  ws.set_meta("defaults.state", "importing");
  const fs::path esco = data_dir / "esco-de-1.1.0";
  TaxonomyData d =
      read_esco_skills(esco / "skills_de_v1.1.0_enriched.csv", "esco-de", "1.1.0", "de");
  read_esco_hierarchy(esco / "broaderRelationsSkillPillar_v1.2.csv",
                      esco / "skillGroups_de_v1.2.csv", d);
  for (const auto& e : fs::directory_iterator(esco)) {
    if (e.path().filename().string().find("SkillsCollection") == std::string::npos) continue;
    d.collections.emplace_back(esco_collection_name(e.path()), read_esco_collection(e.path()));
  }
  const ImportReport r = ws.import(d, true);
  const TaxonomyData g = read_greta(data_dir / "greta" / "greta_facets_de.csv");
  const ImportReport gr = ws.import(g, true);
  if (log) {
    const auto count = [](const ImportStats& s) { return s.added + s.updated + s.unchanged; };
    log("workspace " + ws.directory().string() + ": imported ESCO v1.1.0 German (" +
        std::to_string(count(r.stats)) + " skills) and GRETA 2.0.1 (" +
        std::to_string(count(gr.stats)) + " facets)");
  }
  ws.set_meta("defaults.state", kShippedDataRevision);
  return r;
}

void seed_shipped_data(Workspace& ws, const fs::path& data_dir, const LogFn& log) {
  const auto state = ws.meta("defaults.state");
  if (state && *state == "declined") return;
  // A workspace made from an older revision of the shipped data is brought up to date (the
  // import is idempotent and touches only what changed).
  if ((!state && ws.taxonomies().empty()) || (state && *state != kShippedDataRevision)) {
    import_shipped_data(ws, data_dir, log);
  }
}

}  // namespace skillmatch
