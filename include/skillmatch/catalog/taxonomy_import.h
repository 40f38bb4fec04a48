// Readers of the taxonomy files skillmatch imports into a workspace.
//
// Errors: kNotFound for a missing file; kInvalidArgument naming the file and line for a
// malformed row, a missing column or a duplicate URI. Pure functions, thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "skillmatch/catalog/workspace.h"

namespace skillmatch {

// ESCO's hierarchy: broaderRelationsSkillPillar*.csv (conceptUri, broaderUri: skill -> group,
// skill -> skill, group -> group) and skillGroups_<lang>.csv (conceptUri, preferredLabel, code).
void read_esco_hierarchy(const std::filesystem::path& broader_csv,
                         const std::filesystem::path& groups_csv, TaxonomyData& into);

inline constexpr const char* kEscoAttribution =
    "This service uses the ESCO classification of the European Commission.";

// An ESCO skills CSV in any of its published layouts, recognised by the header:
// - the official export `skills_<lang>.csv` (conceptUri, skillType, reuseLevel, preferredLabel,
//   altLabels, description, ...);
// - the enriched list (conceptUri, skillType, reuseLevel, preferredLabel_<lang>,
//   altLabels_<lang>, description_<lang>, ...), with `language` choosing the columns;
// - the plain list (concept_uri, preferred_label, description).
// Alternative labels are newline-separated, as ESCO exports them.
TaxonomyData read_esco_skills(const std::filesystem::path& csv, const std::string& name,
                              const std::string& version, const std::string& language);

// The official ESCO export as downloaded (one .zip of CSV files, e.g. "ESCO dataset - v1.1.0 -
// classification - en - csv.zip"): skills_<language>.csv, every
// <name>SkillsCollection_<language>.csv as a collection, and the hierarchy when the export has
// broaderRelationsSkillPillar (v1.1.0's English export does not). An empty `version` is taken from
// the file name ("v1.1.0" -> "1.1.0").
TaxonomyData read_esco_export(const std::filesystem::path& zip, const std::string& name,
                              const std::string& version, const std::string& language);

// The member URIs of an ESCO collection CSV (column conceptUri), e.g.
// greenSkillsCollection_de.csv.
std::vector<std::string> read_esco_collection(const std::filesystem::path& csv);

// "green" for greenSkillsCollection_de.csv, "digcomp", "ict", "language", "research",
// "transversal", "digital"; the file stem lower-cased for anything else.
std::string esco_collection_name(const std::filesystem::path& csv);

// GRETA 2.0.1's flat facet list (greta_facets_de.csv: greta_code, facet_name, area_name,
// aspect_name, requirements): one skill per facet, the code as URI, the requirements as
// description; its competence aspects (GRETA-1, code "1") and areas (GRETA-1-2, code "1-2") as
// the hierarchy.
TaxonomyData read_greta(const std::filesystem::path& csv);

// A custom taxonomy as CSV (with a header) or JSON Lines (one object per line). Columns or keys
// are named by the mapping; alternative labels are split on `alt_separator`.
struct ColumnMapping {
  std::string uri = "uri";
  std::string label = "label";
  std::string description = "description";  // optional column
  std::string alt_labels = "alt_labels";    // optional column
  std::string skill_type = "skill_type";    // optional column
  std::string alt_separator = "|";
};
TaxonomyData read_custom_taxonomy(const std::filesystem::path& file, const std::string& name,
                                  const ColumnMapping& mapping = {});

}  // namespace skillmatch
