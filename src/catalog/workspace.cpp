#include "skillmatch/catalog/workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "catalog/analyzer.h"
#include "catalog/sqlite.h"
#include "core/hash.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/time.h"
#include "skillmatch/core/utf8.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS taxonomy(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL, version TEXT NOT NULL,
  language TEXT NOT NULL, source TEXT NOT NULL, licence TEXT NOT NULL, attribution TEXT NOT NULL,
  imported_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skill(
  id INTEGER PRIMARY KEY,
  taxonomy_id INTEGER NOT NULL REFERENCES taxonomy(id) ON DELETE CASCADE,
  uri TEXT NOT NULL, label TEXT NOT NULL, alt_labels TEXT NOT NULL, description TEXT NOT NULL,
  skill_type TEXT NOT NULL, reuse_level TEXT NOT NULL, broader TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  UNIQUE(taxonomy_id, uri));
CREATE TABLE IF NOT EXISTS collection_member(
  collection TEXT NOT NULL, skill_id INTEGER NOT NULL REFERENCES skill(id) ON DELETE CASCADE,
  PRIMARY KEY(collection, skill_id));
CREATE INDEX IF NOT EXISTS collection_member_skill ON collection_member(skill_id);
CREATE TABLE IF NOT EXISTS skill_group(
  taxonomy_id INTEGER NOT NULL REFERENCES taxonomy(id) ON DELETE CASCADE,
  uri TEXT NOT NULL, code TEXT NOT NULL, label TEXT NOT NULL,
  PRIMARY KEY(taxonomy_id, uri));
CREATE TABLE IF NOT EXISTS broader_link(
  taxonomy_id INTEGER NOT NULL REFERENCES taxonomy(id) ON DELETE CASCADE,
  uri TEXT NOT NULL, broader TEXT NOT NULL,
  PRIMARY KEY(taxonomy_id, broader, uri)) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS skill_fts USING fts5(
  label, alt_labels, description, tokenize = 'unicode61 remove_diacritics 0');
)sql";

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

// A hash over every field, separated: detects any change of a skill.
std::string content_hash(const SkillRecord& r) {
  std::uint64_t h = kFnvOffset;
  for (const std::string& field : {r.label, join(r.alt_labels, '\n'), r.description, r.skill_type,
                                   r.reuse_level, join(r.broader, '\n')}) {
    fnv1a_mix(h, field.data(), field.size());
    fnv1a_mix(h, "\x1f", 1);
  }
  return hex64(h);
}

// " AND ..." clauses of a filter over `skill s JOIN taxonomy t`, with their values to bind.
struct FilterSql {
  std::string where;
  std::vector<std::string> values;
};

FilterSql filter_sql(const SkillFilter& f) {
  FilterSql out;
  auto in_list = [&](const std::string& column, const std::vector<std::string>& vals) {
    if (vals.empty()) return;
    out.where += " AND " + column + " IN (";
    for (std::size_t i = 0; i < vals.size(); ++i) {
      out.where += i ? ",?" : "?";
      out.values.push_back(vals[i]);
    }
    out.where += ")";
  };
  in_list("t.name", f.taxonomies);
  in_list("s.skill_type", f.skill_types);
  if (!f.collections.empty()) {
    out.where += " AND EXISTS (SELECT 1 FROM collection_member c WHERE c.skill_id = s.id";
    FilterSql inner;
    std::swap(inner, out);
    in_list("c.collection", f.collections);
    std::swap(inner, out);
    out.where += inner.where + ")";
    out.values.insert(out.values.end(), inner.values.begin(), inner.values.end());
  }
  if (!f.groups.empty()) {
    // Everything below the named groups, through any chain of broader links.
    std::string seed;
    for (std::size_t i = 0; i < f.groups.size(); ++i) seed += i ? ",?" : "?";
    out.where +=
        " AND (s.taxonomy_id, s.uri) IN (WITH RECURSIVE below(tax, uri) AS ("
        "SELECT g.taxonomy_id, g.uri FROM skill_group g WHERE g.uri IN (" +
        seed + ") OR g.code IN (" + seed + ") OR g.label IN (" + seed +
        ") UNION SELECT l.taxonomy_id, l.uri FROM broader_link l "
        "JOIN below b ON l.taxonomy_id = b.tax AND l.broader = b.uri) SELECT tax, uri FROM below)";
    for (int k = 0; k < 3; ++k)
      out.values.insert(out.values.end(), f.groups.begin(), f.groups.end());
  }
  return out;
}

constexpr const char* kSkillColumns =
    "s.id, t.name, s.uri, s.label, s.alt_labels, s.description, s.skill_type, s.reuse_level, "
    "s.broader, t.language";

// Every write that changes what a matcher sees bumps the generation, inside its transaction.
void bump_generation(sql::Db& db) {
  db.exec(
      "INSERT INTO meta(key, value) VALUES ('generation', '1') "
      "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1");
}

// Writes the full-text rows of skills: label, alternative labels (one field, as stored in the
// skill table: joined by '\n') and description, analysed as their taxonomy's language asks.
class FtsWriter {
 public:
  explicit FtsWriter(sql::Db& db)
      : del_(db, "DELETE FROM skill_fts WHERE rowid = ?"),
        ins_(db, "INSERT INTO skill_fts(rowid, label, alt_labels, description) VALUES (?,?,?,?)") {}

  void write(std::int64_t id, const std::string& label, const std::string& alt_labels,
             const std::string& description, catalog::Analysis analysis) {
    remove(id);
    ins_.reset();
    ins_.bind(1, id)
        .bind(2, catalog::analyzed_text(label, analysis))
        .bind(3, catalog::analyzed_text(alt_labels, analysis))
        .bind(4, catalog::analyzed_text(description, analysis))
        .run();
  }

  void remove(std::int64_t id) {
    del_.reset();
    del_.bind(1, id).run();
  }

 private:
  sql::Stmt del_, ins_;
};

// Brings the full-text rows up to the current analysis (catalog::kAnalyzerVersion), inside the
// caller's write transaction. Version 1 (no key: every workspace before languages were told
// apart) analysed every taxonomy as German; German analysis is unchanged since, so only the
// skills of taxonomies in another language are analysed again. A German-only workspace costs one
// read of the taxonomy table. Returns the number of skills re-analysed.
std::size_t update_analysis(sql::Db& db) {
  const std::string key = "analyzer_version";
  int stored = 1;
  if (sql::check_format_version(db, key, catalog::kAnalyzerVersion, "text analyser version")) {
    sql::Stmt v(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?");
    v.bind(1, key).step();
    stored = static_cast<int>(v.int64(0));
  }
  if (stored >= catalog::kAnalyzerVersion) return 0;
  std::size_t redone = 0;
  std::vector<std::pair<std::int64_t, catalog::Analysis>> stale;
  {
    sql::Stmt t(db, "SELECT id, language FROM taxonomy ORDER BY id");
    while (t.step()) {
      const catalog::Analysis a = catalog::analysis_for(t.text(1));
      if (a != catalog::Analysis::kGerman) stale.emplace_back(t.int64(0), a);
    }
  }
  if (!stale.empty()) {
    FtsWriter fts(db);
    sql::Stmt q(db, "SELECT id, label, alt_labels, description FROM skill WHERE taxonomy_id = ?");
    for (const auto& [taxonomy, analysis] : stale) {
      q.reset();
      q.bind(1, taxonomy);
      while (q.step()) {
        fts.write(q.int64(0), q.text(1), q.text(2), q.text(3), analysis);
        ++redone;
      }
    }
  }
  sql::Stmt set(db,
                "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                "ON CONFLICT(key) DO UPDATE SET value = ?2");
  set.bind(1, key).bind(2, std::to_string(catalog::kAnalyzerVersion)).run();
  return redone;
}

}  // namespace

struct Workspace::Impl {
  fs::path dir;
  sql::Db db;

  Impl(fs::path d, bool create) : dir(std::move(d)), db(dir / "skillmatch.db", create) {}

  // The writes, each inside a transaction its caller holds.
  ImportStats import_skills(const TaxonomyInfo& info, const std::vector<SkillRecord>& skills,
                            bool allow_removal);
  std::size_t set_collection(const std::string& taxonomy, const std::string& collection,
                             const std::vector<std::string>& uris);
  std::size_t set_hierarchy(const std::string& taxonomy, const std::vector<SkillGroup>& groups,
                            const std::vector<BroaderLink>& links);

  // The filter's SQL, after checking that every taxonomy, collection, skill type and group it
  // names exists (a misspelt name would otherwise just match nothing).
  FilterSql filter(const SkillFilter& f) const {
    auto check = [&](const std::vector<std::string>& names, const char* what, const char* sql) {
      if (names.empty()) return;
      std::vector<std::string> known;
      sql::Stmt k(db, sql);
      while (k.step()) known.push_back(k.text(0));
      for (const std::string& n : names) {
        if (std::find(known.begin(), known.end(), n) != known.end()) continue;
        std::string list;
        for (const auto& x : known) list += (list.empty() ? "" : ", ") + (x.empty() ? "\"\"" : x);
        throw Error(ErrorKind::kInvalidArgument,
                    std::string("the workspace ") + dir.string() + " has no " + what + " '" + n +
                        "' (it has: " + (list.empty() ? std::string("none") : list) + ")");
      }
    };
    check(f.taxonomies, "taxonomy", "SELECT name FROM taxonomy ORDER BY name");
    check(f.collections, "collection",
          "SELECT DISTINCT collection FROM collection_member ORDER BY 1");
    check(f.skill_types, "skill type", "SELECT DISTINCT skill_type FROM skill ORDER BY 1");
    sql::Stmt q(db, "SELECT 1 FROM skill_group WHERE uri = ?1 OR code = ?1 OR label = ?1 LIMIT 1");
    for (const std::string& g : f.groups) {
      SM_CHECK(!g.empty(), ErrorKind::kInvalidArgument, "an empty skill group name");
      q.reset();
      q.bind(1, g);
      SM_CHECK(q.step(), ErrorKind::kInvalidArgument,
               "the workspace " + dir.string() + " has no skill group '" + g +
                   "' (give a group's code, URI or label; `skillmatch groups` lists them)");
    }
    return filter_sql(f);
  }

  // The skill of the current row; its collections are read too unless `with_collections` is
  // false (skills() reads them for all rows in one query).
  Skill read_skill(const sql::Stmt& st, bool with_collections = true) const {
    Skill s;
    s.id = st.int64(0);
    s.taxonomy = st.text(1);
    s.record.uri = st.text(2);
    s.record.label = st.text(3);
    s.record.alt_labels = split(st.text(4), '\n');
    s.record.description = st.text(5);
    s.record.skill_type = st.text(6);
    s.record.reuse_level = st.text(7);
    s.record.broader = split(st.text(8), '\n');
    s.language = st.text(9);
    if (!with_collections) return s;
    sql::Stmt c(db, "SELECT collection FROM collection_member WHERE skill_id = ? ORDER BY 1");
    c.bind(1, s.id);
    while (c.step()) s.collections.push_back(c.text(0));
    return s;
  }
};

Workspace::Workspace(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

Workspace Workspace::open(const fs::path& dir, bool create) {
  const fs::path file = dir / "skillmatch.db";
  if (!create) {
    SM_CHECK(fs::exists(file), ErrorKind::kNotFound,
             "no workspace at " + dir.string() + " (" + file.string() + " does not exist)");
  } else {
    std::error_code ec;
    fs::create_directories(dir, ec);
    SM_CHECK(!ec, ErrorKind::kIo,
             "cannot create workspace directory " + dir.string() + ": " + ec.message());
  }
  auto impl = std::make_unique<Impl>(dir, create);
  sql::Db& db = impl->db;
  {
    // A file that is not a SQLite database fails here, on the first read.
    sql::Stmt probe(db, "SELECT count(*) FROM sqlite_master");
    probe.step();
    const bool empty = probe.int64(0) == 0;
    if (!empty) {
      sql::Stmt has_meta(db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'");
      has_meta.step();
      SM_CHECK(has_meta.int64(0) == 1, ErrorKind::kCorrupt,
               file.string() + " is a SQLite database but not a skillmatch workspace");
      SM_CHECK(sql::check_format_version(db, "format_version", kFormatVersion, "workspace format"),
               ErrorKind::kCorrupt, file.string() + ": no format_version");
    } else {
      SM_CHECK(create, ErrorKind::kCorrupt, file.string() + " is empty");
    }
  }
  sql::Transaction tx(db);
  db.exec(kSchema);
  sql::Stmt v(db, "INSERT OR IGNORE INTO meta(key, value) VALUES ('format_version', ?)");
  v.bind(1, std::to_string(kFormatVersion)).run();
  // Full-text rows written by an older analysis are re-analysed once, here (a new workspace just
  // gets the key). What BM25 finds changes with them, so readers' snapshots are renewed.
  if (update_analysis(db) > 0) bump_generation(db);
  tx.commit();
  return Workspace(std::move(impl));
}

ImportStats Workspace::Impl::import_skills(const TaxonomyInfo& info,
                                           const std::vector<SkillRecord>& skills,
                                           bool allow_removal) {
  SM_CHECK(!info.name.empty(), ErrorKind::kInvalidArgument, "a taxonomy needs a name");
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < skills.size(); ++i) {
    const SkillRecord& r = skills[i];
    const std::string where = "taxonomy " + info.name + ", skill " + std::to_string(i + 1);
    SM_CHECK(!r.uri.empty(), ErrorKind::kInvalidArgument, where + ": empty URI");
    SM_CHECK(!r.label.empty(), ErrorKind::kInvalidArgument,
             where + " (" + r.uri + "): empty label");
    SM_CHECK(seen.insert(r.uri).second, ErrorKind::kInvalidArgument,
             where + ": duplicate URI " + r.uri);
    try {
      for (const std::string* f : {&r.uri, &r.label, &r.description, &r.skill_type}) {
        validate_utf8(*f);
        SM_CHECK(f->find('\0') == std::string::npos, ErrorKind::kInvalidArgument,
                 "a NUL byte in the text");
      }
      for (const auto& a : r.alt_labels) validate_utf8(a);
    } catch (const Error& e) {
      rethrow_with_context(e, where + " (" + r.uri + ")");
    }
  }

  // A taxonomy imported again in a language of another analysis has every skill re-analysed,
  // the unchanged ones too.
  std::optional<catalog::Analysis> previous;
  {
    sql::Stmt q(db, "SELECT language FROM taxonomy WHERE name = ?");
    q.bind(1, info.name);
    if (q.step()) previous = catalog::analysis_for(q.text(0));
  }
  const catalog::Analysis analysis = catalog::analysis_for(info.language);
  const bool reanalyse = previous && *previous != analysis;

  sql::Stmt up(db,
               "INSERT INTO taxonomy(name, title, version, language, source, licence, "
               "attribution, imported_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) "
               "ON CONFLICT(name) DO UPDATE SET title=?2, version=?3, language=?4, source=?5, "
               "licence=?6, attribution=?7, imported_at=?8");
  up.bind(1, info.name)
      .bind(2, info.title)
      .bind(3, info.version)
      .bind(4, info.language)
      .bind(5, info.source)
      .bind(6, info.licence)
      .bind(7, info.attribution)
      .bind(8, utc_now())
      .run();
  sql::Stmt tid(db, "SELECT id FROM taxonomy WHERE name = ?");
  tid.bind(1, info.name).step();
  const std::int64_t taxonomy_id = tid.int64(0);

  std::unordered_map<std::string, std::pair<std::int64_t, std::string>> existing;
  {
    sql::Stmt q(db, "SELECT uri, id, content_hash FROM skill WHERE taxonomy_id = ?");
    q.bind(1, taxonomy_id);
    while (q.step()) existing[q.text(0)] = {q.int64(1), q.text(2)};
  }
  // Insert and update bind the same fields to ?1..?7; ?8/?9 say which row.
  sql::Stmt ins(db,
                "INSERT INTO skill(label, alt_labels, description, skill_type, reuse_level, "
                "broader, content_hash, taxonomy_id, uri) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  sql::Stmt upd(db,
                "UPDATE skill SET label=?1, alt_labels=?2, description=?3, skill_type=?4, "
                "reuse_level=?5, broader=?6, content_hash=?7 WHERE id=?8");
  FtsWriter fts(db);
  auto bind_fields = [](sql::Stmt& st, const SkillRecord& r, const std::string& hash) {
    st.reset();
    st.bind(1, r.label)
        .bind(2, join(r.alt_labels, '\n'))
        .bind(3, r.description)
        .bind(4, r.skill_type)
        .bind(5, r.reuse_level)
        .bind(6, join(r.broader, '\n'))
        .bind(7, hash);
  };
  // The full-text row of a skill holds its analysed label, alternative labels and description.
  auto index_fts = [&](std::int64_t id, const SkillRecord& r) {
    fts.write(id, r.label, join(r.alt_labels, '\n'), r.description, analysis);
  };
  ImportStats stats;
  for (const SkillRecord& r : skills) {
    const std::string hash = content_hash(r);
    auto it = existing.find(r.uri);
    if (it == existing.end()) {
      bind_fields(ins, r, hash);
      ins.bind(8, taxonomy_id).bind(9, r.uri).run();
      index_fts(db.last_insert_rowid(), r);
      ++stats.added;
      continue;
    }
    const std::int64_t id = it->second.first;
    if (it->second.second != hash) {
      bind_fields(upd, r, hash);
      upd.bind(8, id).run();
      index_fts(id, r);
      ++stats.updated;
    } else {
      if (reanalyse) index_fts(id, r);
      ++stats.unchanged;
    }
    existing.erase(it);
  }
  sql::Stmt del(db, "DELETE FROM skill WHERE id = ?");
  for (const auto& [uri, row] : existing) {
    del.reset();
    del.bind(1, row.first).run();
    fts.remove(row.first);
    ++stats.removed;
  }
  SM_CHECK(allow_removal || stats.removed == 0, ErrorKind::kInvalidArgument,
           "importing " + info.name + " would remove " + std::to_string(stats.removed) +
               " of its " + std::to_string(stats.removed + stats.updated + stats.unchanged) +
               " skills that the new file does not have; to replace the taxonomy, import with "
               "--replace (or choose another --name)");
  return stats;
}

std::size_t Workspace::Impl::set_collection(const std::string& taxonomy,
                                            const std::string& collection,
                                            const std::vector<std::string>& uris) {
  sql::Stmt clear(db,
                  "DELETE FROM collection_member WHERE collection = ?1 AND skill_id IN "
                  "(SELECT s.id FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id "
                  "WHERE t.name = ?2)");
  clear.bind(1, collection).bind(2, taxonomy).run();
  sql::Stmt add(db,
                "INSERT OR IGNORE INTO collection_member(collection, skill_id) "
                "SELECT ?1, s.id FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id "
                "WHERE t.name = ?2 AND s.uri = ?3");
  std::size_t stored = 0;
  for (const auto& uri : uris) {
    add.reset();
    add.bind(1, collection).bind(2, taxonomy).bind(3, uri).run();
    stored += static_cast<std::size_t>(sqlite3_changes(db.handle()));
  }
  return stored;
}

std::size_t Workspace::Impl::set_hierarchy(const std::string& taxonomy,
                                           const std::vector<SkillGroup>& groups,
                                           const std::vector<BroaderLink>& links) {
  sql::Stmt tid(db, "SELECT id FROM taxonomy WHERE name = ?");
  tid.bind(1, taxonomy);
  SM_CHECK(tid.step(), ErrorKind::kNotFound,
           "the workspace has no taxonomy '" + taxonomy + "' to attach a hierarchy to");
  const std::int64_t id = tid.int64(0);
  sql::Stmt clear_groups(db, "DELETE FROM skill_group WHERE taxonomy_id = ?");
  clear_groups.bind(1, id).run();
  sql::Stmt clear_links(db, "DELETE FROM broader_link WHERE taxonomy_id = ?");
  clear_links.bind(1, id).run();
  sql::Stmt add_group(
      db, "INSERT OR REPLACE INTO skill_group(taxonomy_id, uri, code, label) VALUES (?,?,?,?)");
  for (const SkillGroup& g : groups) {
    SM_CHECK(!g.uri.empty(), ErrorKind::kInvalidArgument,
             "a skill group of " + taxonomy + " has no URI (label '" + g.label + "')");
    add_group.reset();
    add_group.bind(1, id).bind(2, g.uri).bind(3, g.code).bind(4, g.label).run();
  }
  sql::Stmt add_link(
      db, "INSERT OR IGNORE INTO broader_link(taxonomy_id, uri, broader) VALUES (?,?,?)");
  std::size_t stored = 0;
  for (const BroaderLink& l : links) {
    if (l.uri.empty() || l.broader.empty() || l.uri == l.broader) continue;
    add_link.reset();
    add_link.bind(1, id).bind(2, l.uri).bind(3, l.broader).run();
    stored += static_cast<std::size_t>(sqlite3_changes(db.handle()));
  }
  return stored;
}

// Runs `write` in one transaction that also bumps the generation.
template <class F>
auto write_transaction(sql::Db& db, F&& write) {
  sql::Transaction tx(db);
  auto result = write();
  bump_generation(db);
  tx.commit();
  return result;
}

ImportStats Workspace::import_taxonomy(const TaxonomyInfo& info,
                                       const std::vector<SkillRecord>& skills) {
  return write_transaction(impl_->db, [&] { return impl_->import_skills(info, skills, true); });
}

std::size_t Workspace::set_collection(const std::string& taxonomy, const std::string& collection,
                                      const std::vector<std::string>& uris) {
  return write_transaction(impl_->db,
                           [&] { return impl_->set_collection(taxonomy, collection, uris); });
}

std::size_t Workspace::set_hierarchy(const std::string& taxonomy,
                                     const std::vector<SkillGroup>& groups,
                                     const std::vector<BroaderLink>& links) {
  return write_transaction(impl_->db,
                           [&] { return impl_->set_hierarchy(taxonomy, groups, links); });
}

ImportReport Workspace::import(const TaxonomyData& d, bool allow_removal) {
  return write_transaction(impl_->db, [&] {
    ImportReport r;
    r.taxonomy = d.info.name;
    r.stats = impl_->import_skills(d.info, d.skills, allow_removal);
    if (!d.groups.empty() || !d.links.empty()) {
      r.groups = d.groups.size();
      r.links = impl_->set_hierarchy(d.info.name, d.groups, d.links);
    }
    for (const auto& [name, uris] : d.collections) {
      r.collections.push_back({name, impl_->set_collection(d.info.name, name, uris), uris.size()});
    }
    return r;
  });
}

std::vector<GroupSummary> Workspace::groups(const SkillFilter& filter) const {
  std::string where;
  for (std::size_t i = 0; i < filter.taxonomies.size(); ++i)
    where += i ? ",?" : " AND t.name IN (?";
  if (!where.empty()) where += ")";
  auto bind_names = [&](sql::Stmt& q) {
    for (std::size_t i = 0; i < filter.taxonomies.size(); ++i) {
      q.bind(static_cast<int>(i + 1), filter.taxonomies[i]);
    }
  };
  // Every group, and every broader link, of the chosen taxonomies.
  std::vector<GroupSummary> out;
  std::unordered_map<std::string, std::size_t> index;  // "tax\nuri" -> position in out
  {
    sql::Stmt q(impl_->db,
                "SELECT t.name, g.uri, g.code, g.label FROM skill_group g "
                "JOIN taxonomy t ON t.id = g.taxonomy_id WHERE 1" +
                    where + " ORDER BY t.name, g.code, g.label");
    bind_names(q);
    while (q.step()) {
      GroupSummary s;
      s.taxonomy = q.text(0);
      s.group = {q.text(1), q.text(2), q.text(3)};
      index[s.taxonomy + "\n" + s.group.uri] = out.size();
      out.push_back(std::move(s));
    }
  }
  std::unordered_map<std::string, std::vector<std::string>> parents;  // "tax\nuri" -> broader
  {
    sql::Stmt q(impl_->db,
                "SELECT t.name, l.uri, l.broader FROM broader_link l "
                "JOIN taxonomy t ON t.id = l.taxonomy_id WHERE 1" +
                    where);
    bind_names(q);
    while (q.step()) parents[q.text(0) + "\n" + q.text(1)].push_back(q.text(2));
  }
  for (auto& g : out) {
    auto it = parents.find(g.taxonomy + "\n" + g.group.uri);
    if (it != parents.end()) g.broader = it->second;
  }
  // Count each skill once for every group above it.
  sql::Stmt q(impl_->db,
              "SELECT t.name, s.uri FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id "
              "WHERE 1" +
                  where);
  bind_names(q);
  while (q.step()) {
    const std::string tax = q.text(0);
    std::unordered_set<std::string> seen;
    std::vector<std::string> todo{q.text(1)};
    while (!todo.empty()) {
      const std::string uri = todo.back();
      todo.pop_back();
      auto it = parents.find(tax + "\n" + uri);
      if (it == parents.end()) continue;
      for (const std::string& p : it->second) {
        if (!seen.insert(p).second) continue;
        todo.push_back(p);
        auto g = index.find(tax + "\n" + p);
        if (g != index.end()) ++out[g->second].skills;
      }
    }
  }
  return out;
}

std::vector<TaxonomyInfo> Workspace::taxonomies() const {
  sql::Stmt q(impl_->db,
              "SELECT name, title, version, language, source, licence, attribution "
              "FROM taxonomy ORDER BY name");
  std::vector<TaxonomyInfo> out;
  while (q.step()) {
    out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6)});
  }
  return out;
}

std::size_t Workspace::skill_count(const SkillFilter& filter) const {
  const FilterSql f = impl_->filter(filter);
  sql::Stmt q(
      impl_->db,
      "SELECT count(*) FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id WHERE 1" + f.where);
  for (std::size_t i = 0; i < f.values.size(); ++i) q.bind(static_cast<int>(i + 1), f.values[i]);
  q.step();
  return static_cast<std::size_t>(q.int64(0));
}

std::vector<Skill> Workspace::skills(const SkillFilter& filter) const {
  const FilterSql f = impl_->filter(filter);
  sql::Stmt q(impl_->db, std::string("SELECT ") + kSkillColumns +
                             " FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id WHERE 1" +
                             f.where + " ORDER BY s.id");
  for (std::size_t i = 0; i < f.values.size(); ++i) q.bind(static_cast<int>(i + 1), f.values[i]);
  std::vector<Skill> out;
  std::unordered_map<std::int64_t, std::size_t> index;
  while (q.step()) {
    out.push_back(impl_->read_skill(q, false));
    index[out.back().id] = out.size() - 1;
  }
  sql::Stmt c(impl_->db, "SELECT skill_id, collection FROM collection_member ORDER BY 2");
  while (c.step()) {
    auto it = index.find(c.int64(0));
    if (it != index.end()) out[it->second].collections.push_back(c.text(1));
  }
  return out;
}

std::vector<std::int64_t> Workspace::skill_ids(const SkillFilter& filter) const {
  const FilterSql f = impl_->filter(filter);
  sql::Stmt q(impl_->db,
              "SELECT s.id FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id WHERE 1" + f.where +
                  " ORDER BY s.id");
  for (std::size_t i = 0; i < f.values.size(); ++i) q.bind(static_cast<int>(i + 1), f.values[i]);
  std::vector<std::int64_t> out;
  while (q.step()) out.push_back(q.int64(0));
  return out;
}

std::optional<Skill> Workspace::skill(std::int64_t id) const {
  sql::Stmt q(impl_->db, std::string("SELECT ") + kSkillColumns +
                             " FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id "
                             "WHERE s.id = ?");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  return impl_->read_skill(q);
}

std::optional<Skill> Workspace::find(const std::string& taxonomy, const std::string& uri) const {
  sql::Stmt q(impl_->db, std::string("SELECT ") + kSkillColumns +
                             " FROM skill s JOIN taxonomy t ON t.id = s.taxonomy_id "
                             "WHERE t.name = ? AND s.uri = ?");
  q.bind(1, taxonomy).bind(2, uri);
  if (!q.step()) return std::nullopt;
  return impl_->read_skill(q);
}

std::vector<Bm25Hit> Workspace::bm25(const std::string& query, std::size_t k,
                                     const SkillFilter& filter, const Bm25Weights& w) const {
  validate_utf8(query);
  SM_CHECK(w.label >= 0 && w.alt_labels >= 0 && w.description >= 0 &&
               w.label + w.alt_labels + w.description > 0,
           ErrorKind::kInvalidArgument,
           "BM25 field weights must be >= 0 and not all 0 (label, alt labels, description)");
  if (k == 0) return {};
  // The taxonomies the filter admits, by the analysis of their language (a name the workspace
  // does not have is reported by the filter check below).
  std::map<catalog::Analysis, std::vector<std::int64_t>> by_analysis;
  {
    std::string sql = "SELECT id, language FROM taxonomy";
    for (std::size_t i = 0; i < filter.taxonomies.size(); ++i)
      sql += i ? ",?" : " WHERE name IN (?";
    if (!filter.taxonomies.empty()) sql += ")";
    sql::Stmt q(impl_->db, sql);
    for (std::size_t i = 0; i < filter.taxonomies.size(); ++i) {
      q.bind(static_cast<int>(i + 1), filter.taxonomies[i]);
    }
    while (q.step()) by_analysis[catalog::analysis_for(q.text(1))].push_back(q.int64(0));
  }
  // One search per analysis: the query's terms in that analysis, against its taxonomies only.
  struct Search {
    std::vector<std::string> terms;
    const std::vector<std::int64_t>* taxonomies;
  };
  std::vector<Search> searches;
  for (const auto& [analysis, ids] : by_analysis) {
    std::vector<std::string> terms = catalog::analyze(query, analysis);
    std::sort(terms.begin(), terms.end());
    terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
    if (!terms.empty()) searches.push_back({std::move(terms), &ids});
  }
  // No taxonomy at all: nothing to find; a filter naming what is not there is refused all the
  // same when the query has words, as it was before taxonomies were analysed in their language.
  if (by_analysis.empty() && !catalog::analyze(query, catalog::Analysis::kGerman).empty()) {
    impl_->filter(filter);
  }
  if (searches.empty()) return {};
  const FilterSql f = impl_->filter(filter);
  char weights[96];
  std::snprintf(weights, sizeof weights, "%.17g, %.17g, %.17g", w.label, w.alt_labels,
                w.description);
  // Only the fields with a weight: "{label description} : ("t1" OR "t2")".
  std::string fields = "{";
  if (w.label > 0) fields += "label ";
  if (w.alt_labels > 0) fields += "alt_labels ";
  if (w.description > 0) fields += "description ";
  fields += "} : (";
  struct Row {
    double rank;  // SQLite's bm25(): lower is better
    std::int64_t id;
  };
  std::vector<Row> rows;
  for (const Search& search : searches) {
    std::string match = fields;
    for (std::size_t i = 0; i < search.terms.size(); ++i) {
      if (i) match += " OR ";
      match += '"';
      for (char c : search.terms[i]) match += c == '"' ? std::string("\"\"") : std::string(1, c);
      match += '"';
    }
    match += ")";
    // With one analysis for every admitted taxonomy the filter alone decides (the search of a
    // one-language workspace is the one it always was).
    std::string only;
    if (by_analysis.size() > 1) {
      for (std::size_t i = 0; i < search.taxonomies->size(); ++i) {
        only += i ? ",?" : " AND s.taxonomy_id IN (?";
      }
      only += ")";
    }
    sql::Stmt q(impl_->db,
                std::string("SELECT f.rowid, bm25(skill_fts, ") + weights +
                    ") AS r FROM skill_fts f "
                    "JOIN skill s ON s.id = f.rowid JOIN taxonomy t ON t.id = s.taxonomy_id "
                    "WHERE skill_fts MATCH ?" +
                    f.where + only + " ORDER BY r, f.rowid LIMIT ?");
    int i = 1;
    q.bind(i++, match);
    for (const auto& v : f.values) q.bind(i++, v);
    if (!only.empty()) {
      for (const std::int64_t id : *search.taxonomies) q.bind(i++, id);
    }
    q.bind(i, static_cast<std::int64_t>(k));
    while (q.step()) rows.push_back({q.real(1), q.int64(0)});
  }
  // Merged by score (each skill is in one taxonomy, so in one search), ties by skill id.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.id < b.id;
  });
  if (rows.size() > k) rows.resize(k);
  std::vector<Bm25Hit> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back({r.id, -r.rank});
  return out;
}

std::uint64_t Workspace::generation() const {
  sql::Stmt q(impl_->db, "SELECT value FROM meta WHERE key = 'generation'");
  return q.step() ? static_cast<std::uint64_t>(q.int64(0)) : 0;
}

std::shared_ptr<const SkillSet> Workspace::snapshot() const {
  auto set = std::make_shared<SkillSet>();
  impl_->db.exec("BEGIN");
  try {
    set->generation = generation();
    set->skills = skills();
    impl_->db.exec("COMMIT");
  } catch (...) {
    impl_->db.exec("ROLLBACK");
    throw;
  }
  set->position.reserve(set->skills.size());
  for (std::size_t i = 0; i < set->skills.size(); ++i) set->position[set->skills[i].id] = i;
  return set;
}

void Workspace::set_meta(const std::string& key, const std::string& value) {
  sql::Transaction tx(impl_->db);
  sql::Stmt q(impl_->db,
              "INSERT INTO meta(key, value) VALUES (?1, ?2) "
              "ON CONFLICT(key) DO UPDATE SET value = ?2");
  q.bind(1, key).bind(2, value).run();
  tx.commit();
}

std::optional<std::string> Workspace::meta(const std::string& key) const {
  sql::Stmt q(impl_->db, "SELECT value FROM meta WHERE key = ?");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

const fs::path& Workspace::directory() const {
  return impl_->dir;
}

}  // namespace skillmatch
