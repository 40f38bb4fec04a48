// The workspace: one directory holding skillmatch.db, a SQLite database of taxonomies and their
// skills (labels, alternative labels, descriptions, types, ESCO collections) with a full-text
// index for BM25, and metadata.
//
// The full-text index holds every skill analysed in its taxonomy's language (German: CISTEM,
// English: Porter2, other languages: lower-cased words; see src/catalog/analyzer.h). A workspace
// whose index an older analysis wrote (German for every taxonomy) is brought up to date once, in
// one transaction, when it is opened.
//
// Every write runs in one transaction: a process killed at any moment leaves the database as it
// was before or after the write. A database written by a newer format version, or indexed by a
// newer text analysis, is refused.
// Thread-safety: a Workspace is one SQLite connection; use it from one thread at a time (open
// one Workspace per thread for parallel readers; the Engine keeps a pool of them). The database
// runs in WAL mode with a busy timeout: readers in other threads and processes see either the
// state before or after a write, never a part of it, and are not blocked by it.
// Errors: kNotFound (no workspace where one must exist), kCorrupt (not a skillmatch database),
// kUnsupported (newer format or text analysis), kInvalidArgument (bad records, duplicate URIs, a
// filter naming a skill group the workspace does not have), kIo.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace skillmatch {

// One skill as imported.
struct SkillRecord {
  std::string uri;  // unique within its taxonomy
  std::string label;
  std::vector<std::string> alt_labels;
  std::string description;
  std::string skill_type;   // ESCO: "skill/competence" or "knowledge"; free text otherwise
  std::string reuse_level;  // ESCO: transversal, cross-sector, sector-specific, occupation-specific
  std::vector<std::string> broader;  // URIs of parent concepts
};

// Where a taxonomy came from; stored with it.
struct TaxonomyInfo {
  std::string name;  // short key, e.g. "esco-de", "greta"
  std::string title;
  std::string version;
  std::string language;
  std::string source;  // file or URL it was imported from
  std::string licence;
  std::string attribution;
};

struct ImportStats {
  std::size_t added = 0, updated = 0, unchanged = 0, removed = 0;
};

// A node of a taxonomy's hierarchy that is not a skill (ESCO skill groups, GRETA areas).
struct SkillGroup {
  std::string uri, code, label;
};

// "`uri` (a skill or a group) is narrower than `broader`".
struct BroaderLink {
  std::string uri, broader;
};

// Everything of one taxonomy that an import writes (what the readers in taxonomy_import.h make).
struct TaxonomyData {
  TaxonomyInfo info;
  std::vector<SkillRecord> skills;
  // The hierarchy, where the source has one.
  std::vector<SkillGroup> groups;
  std::vector<BroaderLink> links;
  // Named collections (ESCO's green, digital, ...): name and member URIs.
  std::vector<std::pair<std::string, std::vector<std::string>>> collections;
};

struct ImportReport {
  std::string taxonomy;  // its name
  ImportStats stats;
  std::size_t groups = 0, links = 0;  // hierarchy stored (0 when the data has none)
  struct Collection {
    std::string name;
    std::size_t stored = 0, listed = 0;  // members that are skills of the taxonomy / in the file
  };
  std::vector<Collection> collections;
};

struct Skill {
  std::int64_t id = 0;  // stable row id within the workspace
  std::string taxonomy;
  std::string language;  // its taxonomy's language ("de", "en", ...; "" when not known)
  SkillRecord record;
  std::vector<std::string> collections;
};

// Every skill of a workspace at one moment, ordered by id: what the matcher ranks. Immutable once
// made, so one snapshot is shared by any number of threads.
struct SkillSet {
  std::uint64_t generation = 0;                            // Workspace::generation() it was read at
  std::vector<Skill> skills;                               // ordered by id
  std::unordered_map<std::int64_t, std::size_t> position;  // skill id -> index in skills

  const Skill* find(std::int64_t id) const {
    auto it = position.find(id);
    return it == position.end() ? nullptr : &skills[it->second];
  }
};

// Which skills a search or listing considers; empty members mean "any".
struct SkillFilter {
  std::vector<std::string> taxonomies;
  std::vector<std::string> collections;  // a skill must be in at least one of them
  std::vector<std::string> skill_types;
  // Skill groups (URI, code such as "S1.2", or exact label): a skill must lie below at least
  // one of them in its taxonomy's hierarchy (through any chain of broader links).
  std::vector<std::string> groups;
};

struct GroupSummary {
  std::string taxonomy;
  SkillGroup group;
  std::vector<std::string> broader;  // parent group URIs
  std::size_t skills = 0;            // skills below it, through any chain
};

// BM25 field weights; a field of weight 0 is not searched at all.
struct Bm25Weights {
  double label = 3, alt_labels = 2, description = 1;
};

struct Bm25Hit {
  std::int64_t skill_id = 0;
  double score = 0;  // higher is better (negated SQLite bm25())
};

class Workspace {
 public:
  static constexpr int kFormatVersion = 1;

  // Opens DIR/skillmatch.db, creating the directory and database when `create` is true. Full-text
  // rows of an older analysis are analysed again here, once (a German-only workspace only has its
  // analysis version noted). Throws kNotFound, kCorrupt, kUnsupported (see above), kIo.
  static Workspace open(const std::filesystem::path& dir, bool create);
  ~Workspace();
  Workspace(Workspace&&) noexcept;
  Workspace& operator=(Workspace&&) noexcept;

  // Imports (or re-imports) a taxonomy with its hierarchy and collections in one transaction:
  // a failure anywhere (or a kill) leaves the workspace as it was. Skills whose content did not
  // change are not touched. Skills the data no longer has are removed only with
  // `allow_removal`; otherwise the import is refused (kInvalidArgument naming how many), so that
  // a list imported under an existing name does not silently replace a taxonomy.
  ImportReport import(const TaxonomyData& data, bool allow_removal);

  // Imports (or re-imports) a whole taxonomy in one transaction. Skills whose content did not
  // change are not touched; skills missing from `skills` are removed. Throws kInvalidArgument for
  // a duplicate or empty URI or an empty label, naming it.
  ImportStats import_taxonomy(const TaxonomyInfo& info, const std::vector<SkillRecord>& skills);

  // Replaces the members of a named collection of a taxonomy (URIs not in the taxonomy are
  // counted and skipped). Returns the number of members stored.
  std::size_t set_collection(const std::string& taxonomy, const std::string& collection,
                             const std::vector<std::string>& uris);

  // Replaces the hierarchy of a taxonomy: its groups and the broader links of its skills and
  // groups. Returns the number of links stored. Throws kNotFound for an unknown taxonomy,
  // kInvalidArgument for a group without URI.
  std::size_t set_hierarchy(const std::string& taxonomy, const std::vector<SkillGroup>& groups,
                            const std::vector<BroaderLink>& links);
  // The groups of the taxonomies that pass `filter.taxonomies`, ordered by taxonomy and code.
  std::vector<GroupSummary> groups(const SkillFilter& filter = {}) const;

  std::vector<TaxonomyInfo> taxonomies() const;
  std::size_t skill_count(const SkillFilter& filter = {}) const;
  std::vector<Skill> skills(const SkillFilter& filter = {}) const;            // ordered by id
  std::vector<std::int64_t> skill_ids(const SkillFilter& filter = {}) const;  // ordered
  std::optional<Skill> skill(std::int64_t id) const;
  std::optional<Skill> find(const std::string& taxonomy, const std::string& uri) const;

  // A number that grows with every committed change of skills, collections or hierarchy, by this
  // or any other process: a reader compares it to know when its snapshot is stale.
  std::uint64_t generation() const;
  // Every skill with its collections, read in one transaction (consistent with its generation).
  std::shared_ptr<const SkillSet> snapshot() const;

  // BM25 over preferred labels, alternative labels and descriptions (weights 3, 2, 1 unless
  // given). The query is analysed once for each language among the taxonomies the filter admits
  // (languages of one analysis share it) and its terms in a language are matched against the
  // skills of that language's taxonomies only; the hits are merged by score. Best first, at most
  // `k`; ties in score by skill id. All languages share one index, whose statistics (number and
  // length of rows, rows holding a term) span every taxonomy: a stem that two languages share
  // counts the rows of both. Throws kInvalidArgument for negative or all-zero weights and for a
  // filter naming what the workspace does not have.
  std::vector<Bm25Hit> bm25(const std::string& query, std::size_t k, const SkillFilter& filter = {},
                            const Bm25Weights& weights = {}) const;

  // Free key/value metadata (e.g. which model embedded the skills).
  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;

  const std::filesystem::path& directory() const;

  struct Impl;

 private:
  explicit Workspace(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skillmatch
