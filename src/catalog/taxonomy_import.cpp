#include "skillmatch/catalog/taxonomy_import.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/zip.h"
#include "skillmatch/core/csv.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/jsonl_reader.h"
#include "skillmatch/core/utf8.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// The distinct non-empty parts of `s` between separators, in order (a set finds repeats: a field
// of a CSV record may hold a million labels).
std::vector<std::string> split_labels(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t pos = sep.empty() ? std::string::npos : s.find(sep, start);
    std::string part = trim(s.substr(start, pos == std::string::npos ? pos : pos - start));
    if (!part.empty() && seen.insert(part).second) out.push_back(std::move(part));
    if (pos == std::string::npos) break;
    start = pos + sep.size();
  }
  return out;
}

// Fails naming the file and line when `uri` was seen before.
void check_unique(std::unordered_set<std::string>& seen, const std::string& uri,
                  const std::string& where) {
  SM_CHECK(!uri.empty(), ErrorKind::kInvalidArgument, where + ": empty URI");
  SM_CHECK(seen.insert(uri).second, ErrorKind::kInvalidArgument, where + ": duplicate URI " + uri);
}

std::optional<std::size_t> first_column(const CsvReader& csv,
                                        std::initializer_list<std::string> names) {
  for (const auto& n : names) {
    if (auto c = csv.column(n)) return c;
  }
  return std::nullopt;
}

}  // namespace

namespace {

// The readers of ESCO's CSV files, on a CsvReader of a file or of an archive's entry.

// `source` names the file in the taxonomy's information and in messages.
TaxonomyData esco_skills(CsvReader& csv, const std::string& source, const std::string& name,
                         const std::string& version, const std::string& language) {
  const std::string l = "_" + language;
  const auto uri = first_column(csv, {"conceptUri", "concept_uri"});
  const auto label = first_column(csv, {"preferredLabel", "preferredLabel" + l, "preferred_label"});
  SM_CHECK(uri && label, ErrorKind::kInvalidArgument,
           source + ": not an ESCO skills file (needs conceptUri and preferredLabel" +
               " columns, or concept_uri and preferred_label)");
  const auto alt = first_column(csv, {"altLabels", "altLabels" + l});
  const auto desc = first_column(csv, {"description", "description" + l});
  const auto type = csv.column("skillType");
  const auto reuse = csv.column("reuseLevel");
  TaxonomyData out;
  out.info = {name,
              "ESCO skills (" + language + ")",
              version,
              language,
              source,
              "ESCO: European Commission, reuse under Commission Decision 2011/833/EU",
              kEscoAttribution};
  std::unordered_set<std::string> seen;
  std::vector<std::string> row;
  while (csv.next(row)) {
    SkillRecord r;
    r.uri = trim(row[*uri]);
    check_unique(seen, r.uri, csv.where());
    r.label = trim(row[*label]);
    SM_CHECK(!r.label.empty(), ErrorKind::kInvalidArgument,
             csv.where() + ": skill " + r.uri + " has no label");
    if (alt) r.alt_labels = split_labels(row[*alt], "\n");
    if (desc) r.description = trim(row[*desc]);
    if (type) r.skill_type = trim(row[*type]);
    if (reuse) r.reuse_level = trim(row[*reuse]);
    out.skills.push_back(std::move(r));
  }
  return out;
}

void esco_hierarchy(CsvReader& broader_csv, CsvReader& groups_csv, TaxonomyData& into) {
  {
    CsvReader& csv = groups_csv;
    const std::size_t uri = csv.require_column("conceptUri");
    const std::size_t label = csv.require_column("preferredLabel");
    const auto code = csv.column("code");
    std::vector<std::string> row;
    while (csv.next(row)) {
      SM_CHECK(!trim(row[uri]).empty(), ErrorKind::kInvalidArgument,
               csv.where() + ": empty conceptUri");
      into.groups.push_back({trim(row[uri]), code ? trim(row[*code]) : "", trim(row[label])});
    }
  }
  CsvReader& csv = broader_csv;
  const std::size_t uri = csv.require_column("conceptUri");
  const std::size_t broader = csv.require_column("broaderUri");
  std::vector<std::string> row;
  while (csv.next(row)) {
    SM_CHECK(!trim(row[uri]).empty() && !trim(row[broader]).empty(), ErrorKind::kInvalidArgument,
             csv.where() + ": empty conceptUri or broaderUri");
    into.links.push_back({trim(row[uri]), trim(row[broader])});
  }
}

std::vector<std::string> esco_collection(CsvReader& csv) {
  const std::size_t uri = csv.require_column("conceptUri");
  std::vector<std::string> out;
  std::vector<std::string> row;
  while (csv.next(row)) out.push_back(trim(row[uri]));
  return out;
}

}  // namespace

TaxonomyData read_esco_skills(const fs::path& path, const std::string& name,
                              const std::string& version, const std::string& language) {
  CsvReader csv(path);
  return esco_skills(csv, path.string(), name, version, language);
}

TaxonomyData read_esco_export(const fs::path& zip_path, const std::string& name,
                              const std::string& version, const std::string& language) {
  const ZipReader zip(zip_path);
  const std::string skills_name = "skills_" + language + ".csv";
  const std::string collection_suffix = "SkillsCollection_" + language + ".csv";
  std::string skills_entry, broader_entry, groups_entry;
  std::vector<std::string> collection_entries;
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() > suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const auto& entry : zip.names()) {
    const std::string base = fs::path(entry).filename().string();
    const bool wanted = base == skills_name || base == "skillGroups_" + language + ".csv" ||
                        base.rfind("broaderRelationsSkillPillar", 0) == 0 ||
                        ends_with(base, collection_suffix);
    // The names of the entries read become the taxonomy's source and collection names: text,
    // like the content.
    SM_CHECK(!wanted || (is_valid_utf8(entry) && entry.find('\0') == std::string::npos),
             ErrorKind::kCorrupt,
             zip_path.string() + ": an entry named like an ESCO file (" +
                 std::to_string(entry.size()) + " bytes) has a name that is not UTF-8 text");
    if (base == skills_name) skills_entry = entry;
    if (base == "skillGroups_" + language + ".csv") groups_entry = entry;
    if (base.rfind("broaderRelationsSkillPillar", 0) == 0) broader_entry = entry;
    if (ends_with(base, collection_suffix)) collection_entries.push_back(entry);
  }
  SM_CHECK(!skills_entry.empty(), ErrorKind::kInvalidArgument,
           zip_path.string() + " has no " + skills_name +
               " (is it an ESCO CSV export in that language? use --language)");
  std::string v = version;
  if (v.empty()) {
    const std::string file = zip_path.filename().string();
    const auto pos = file.find(" v");
    if (pos != std::string::npos) v = file.substr(pos + 2, file.find(' ', pos + 2) - pos - 2);
  }
  // The entries are read in memory and named "<archive>:<entry>" in messages and the source.
  auto entry_csv = [&](const std::string& entry) {
    return CsvReader(zip.read(entry), zip_path.string() + ":" + entry);
  };
  CsvReader skills = entry_csv(skills_entry);
  TaxonomyData out = esco_skills(skills, zip_path.string() + ":" + skills_entry, name, v, language);
  if (!broader_entry.empty() && !groups_entry.empty()) {
    CsvReader broader = entry_csv(broader_entry);
    CsvReader groups = entry_csv(groups_entry);
    esco_hierarchy(broader, groups, out);
  }
  for (const auto& entry : collection_entries) {
    CsvReader csv = entry_csv(entry);
    out.collections.push_back({esco_collection_name(entry), esco_collection(csv)});
  }
  return out;
}

void read_esco_hierarchy(const fs::path& broader_csv, const fs::path& groups_csv,
                         TaxonomyData& into) {
  CsvReader groups(groups_csv);
  CsvReader broader(broader_csv);
  esco_hierarchy(broader, groups, into);
}

std::vector<std::string> read_esco_collection(const fs::path& path) {
  CsvReader csv(path);
  return esco_collection(csv);
}

std::string esco_collection_name(const fs::path& path) {
  std::string stem = path.stem().string();
  const auto pos = stem.find("SkillsCollection");
  if (pos != std::string::npos) stem = stem.substr(0, pos);
  std::transform(stem.begin(), stem.end(), stem.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return stem;
}

TaxonomyData read_greta(const fs::path& path) {
  CsvReader csv(path);
  const std::size_t code = csv.require_column("greta_code");
  const std::size_t facet = csv.require_column("facet_name");
  const std::size_t area = csv.require_column("area_name");
  const std::size_t aspect = csv.require_column("aspect_name");
  const std::size_t req = csv.require_column("requirements");
  TaxonomyData out;
  out.info = {"greta",
              "GRETA-Kompetenzmodell für Lehrende in der Erwachsenen- und Weiterbildung",
              "2.0.1",
              "de",
              path.string(),
              "GRETA: Deutsches Institut für Erwachsenenbildung (DIE)",
              "GRETA-Kompetenzmodell 2.0.1, Deutsches Institut für Erwachsenenbildung"};
  std::unordered_set<std::string> seen, group_seen;
  std::vector<std::string> row;
  while (csv.next(row)) {
    SkillRecord r;
    r.uri = trim(row[code]);
    check_unique(seen, r.uri, csv.where());
    r.label = trim(row[facet]);
    SM_CHECK(!r.label.empty(), ErrorKind::kInvalidArgument, csv.where() + ": empty facet_name");
    std::string d;
    for (const auto& part : split_labels(row[req], "|")) d += (d.empty() ? "" : "; ") + part;
    r.description = d;
    r.skill_type = "GRETA facet";
    // GRETA-<aspect>-<area>-<facet>: the area and aspect are the groups above the facet.
    const std::size_t last = r.uri.rfind('-');
    const std::size_t middle = last == std::string::npos ? last : r.uri.rfind('-', last - 1);
    SM_CHECK(r.uri.rfind("GRETA-", 0) == 0 && middle != std::string::npos && middle > 5,
             ErrorKind::kInvalidArgument,
             csv.where() + ": greta_code '" + r.uri + "' is not GRETA-<aspect>-<area>-<facet>");
    const std::string area_uri = r.uri.substr(0, last), aspect_uri = r.uri.substr(0, middle);
    if (group_seen.insert(area_uri).second) {
      out.groups.push_back({area_uri, area_uri.substr(6), trim(row[area])});
      out.links.push_back({area_uri, aspect_uri});
    }
    if (group_seen.insert(aspect_uri).second) {
      out.groups.push_back({aspect_uri, aspect_uri.substr(6), trim(row[aspect])});
    }
    r.broader = {area_uri};
    out.links.push_back({r.uri, area_uri});
    out.skills.push_back(std::move(r));
  }
  return out;
}

TaxonomyData read_custom_taxonomy(const fs::path& path, const std::string& name,
                                  const ColumnMapping& m) {
  TaxonomyData out;
  out.info = {name, name, "", "", path.string(), "", ""};
  std::unordered_set<std::string> seen;
  const std::string ext = path.extension().string();
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") {
    require_file(path, "taxonomy file");
    std::ifstream in(path, std::ios::binary);
    JsonlReader reader(in, path.string());
    auto str = [&](const nlohmann::json& j, const std::string& key, bool required,
                   const std::string& where) -> std::string {
      auto it = j.find(key);
      if (it == j.end() || it->is_null()) {
        SM_CHECK(!required, ErrorKind::kInvalidArgument, where + ": no \"" + key + "\"");
        return {};
      }
      SM_CHECK(it->is_string(), ErrorKind::kInvalidArgument,
               where + ": \"" + key + "\" must be a string");
      SM_CHECK(it->get_ref<const std::string&>().find('\0') == std::string::npos,
               ErrorKind::kInvalidArgument, where + ": \"" + key + "\" contains a NUL byte");
      return trim(it->get<std::string>());
    };
    nlohmann::json j;
    while (reader.next(j)) {
      const std::string where = reader.where();
      SkillRecord r;
      r.uri = str(j, m.uri, true, where);
      check_unique(seen, r.uri, where);
      r.label = str(j, m.label, true, where);
      SM_CHECK(!r.label.empty(), ErrorKind::kInvalidArgument, where + ": empty label");
      r.description = str(j, m.description, false, where);
      r.skill_type = str(j, m.skill_type, false, where);
      auto alt = j.find(m.alt_labels);
      if (alt != j.end() && alt->is_array()) {
        for (const auto& a : *alt) {
          SM_CHECK(a.is_string() && a.get_ref<const std::string&>().find('\0') == std::string::npos,
                   ErrorKind::kInvalidArgument,
                   where + ": \"" + m.alt_labels + "\" must hold strings without NUL bytes");
          r.alt_labels.push_back(trim(a.get<std::string>()));
        }
      } else {
        r.alt_labels = split_labels(str(j, m.alt_labels, false, where), m.alt_separator);
      }
      out.skills.push_back(std::move(r));
    }
    return out;
  }
  CsvReader csv(path);
  const std::size_t uri = csv.require_column(m.uri);
  const std::size_t label = csv.require_column(m.label);
  const auto desc = csv.column(m.description);
  const auto alt = csv.column(m.alt_labels);
  const auto type = csv.column(m.skill_type);
  std::vector<std::string> row;
  while (csv.next(row)) {
    SkillRecord r;
    r.uri = trim(row[uri]);
    check_unique(seen, r.uri, csv.where());
    r.label = trim(row[label]);
    SM_CHECK(!r.label.empty(), ErrorKind::kInvalidArgument, csv.where() + ": empty label");
    if (desc) r.description = trim(row[*desc]);
    if (alt) r.alt_labels = split_labels(row[*alt], m.alt_separator);
    if (type) r.skill_type = trim(row[*type]);
    out.skills.push_back(std::move(r));
  }
  return out;
}

}  // namespace skillmatch
