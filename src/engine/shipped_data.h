// The taxonomies shipped in data/ (ESCO v1.1.0 German with collections and the v1.2 hierarchy,
// GRETA 2.0.1), and seeding a new workspace with them. Private to the engine.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "skillmatch/catalog/workspace.h"

namespace skillmatch {

using LogFn = std::function<void(const std::string&)>;

// Imports the shipped taxonomies (each in one transaction), marking the workspace's metadata
// before and after so that an import killed half-way is redone. Returns ESCO's report.
ImportReport import_shipped_data(Workspace& ws, const std::filesystem::path& data_dir,
                                 const LogFn& log);

// On first use (no taxonomy, no marker), after an interrupted seeding, and when the workspace
// was seeded from an older revision of the shipped data: imports it. A workspace whose first
// import was the user's own ("declined") is left alone.
void seed_shipped_data(Workspace& ws, const std::filesystem::path& data_dir, const LogFn& log);

}  // namespace skillmatch
