// Evaluation datasets: queries with the skills that are relevant to them, resolved against the
// skills of a workspace (the corpus).
//
// Formats:
//  - triples: sentence-transformers JSON Lines, one object per line with the query under
//    "anchor" or "query" and "positive" (a string or a list of strings); "negative" is allowed
//    and ignored (the IR metrics need no negatives), an optional "id" names the query. Lines with
//    the same query text are one query.
//  - beir: a folder with queries.jsonl ({"_id", "text"}), corpus.jsonl ({"_id", "title",
//    "text"}) and qrels/<split>.tsv (query-id, corpus-id, score; score > 0 is relevant).
//  - labels: CSV with a header and one (text, label) row per relevant skill; rows with the same
//    text are one query.
// A positive is resolved, in this order, as a skill URI, an exact preferred label, or an exact
// rendering of a skill by `positive_template` (e.g. "{label}: {description}"), after trimming
// surrounding white space. A preferred label
// shared by several skills makes all of them relevant. A BEIR corpus document is resolved by its
// _id as URI, its title as preferred label, then its text as rendering.
// Positives that resolve to nothing are counted and listed, never dropped silently; a query left
// with no relevant skill is skipped (as InformationRetrievalEvaluator skips it) and counted.
//
// Errors: kNotFound for missing files; kInvalidArgument naming file and line for a line without a
// query or without positives, malformed JSON/CSV or invalid UTF-8; kInvalidArgument for a
// dataset with no query at all, and for a corpus in which one URI names two skills.
// Thread-safety: value types; a SkillResolver is immutable after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "skillmatch/catalog/workspace.h"

namespace skillmatch {

struct EvalQuery {
  std::string id;  // the dataset's id (BEIR, triples "id") or "q<N>" in order of appearance
  std::string text;
  std::vector<std::int64_t> relevant;  // skill ids, sorted, unique
  std::string where;                   // "<file> line N" of its first line
};

struct UnresolvedPositive {
  std::string value;
  std::size_t count = 0;  // lines that named it
  std::string where;      // first line
};

struct EvalDataset {
  std::string name;                 // file or folder stem
  std::string format;               // "triples", "beir" or "labels"
  std::vector<EvalQuery> queries;   // those with at least one relevant skill, in file order
  std::size_t limited_from = 0;     // queries before the caller kept only the first (0: all)
  std::size_t lines = 0;            // data lines / rows / qrels read
  std::size_t skipped_queries = 0;  // no positive resolved
  std::size_t positives = 0;        // positive mentions read
  std::size_t resolved_positives = 0;
  std::size_t ambiguous_labels = 0;  // labels that named more than one skill (all counted)
  std::vector<UnresolvedPositive> unresolved;  // in order of first appearance
};

enum class DatasetFormat { kAuto, kTriples, kBeir, kLabels };

struct DatasetOptions {
  DatasetFormat format =
      DatasetFormat::kAuto;  // auto: folder -> beir, .csv -> labels, else triples
  std::string beir_split = "test";
  std::string text_column = "text";    // labels CSV
  std::string label_column = "label";  // labels CSV
  std::string positive_template = "{label}: {description}";
};

// The corpus: skills by URI, preferred label and rendering.
class SkillResolver {
 public:
  SkillResolver(const std::vector<Skill>& corpus, const std::string& positive_template);
  // Skill ids for a URI, label or rendering (empty when none). `ambiguous` is set when a label
  // named more than one skill.
  std::vector<std::int64_t> resolve(const std::string& value, bool* ambiguous = nullptr) const;
  const std::string& uri(std::int64_t id) const;  // for run files
  std::size_t size() const noexcept { return uri_of_.size(); }

 private:
  std::unordered_map<std::string, std::int64_t> by_uri_;
  std::unordered_map<std::string, std::vector<std::int64_t>> by_label_;
  std::unordered_map<std::string, std::vector<std::int64_t>> by_text_;
  std::unordered_map<std::int64_t, std::string> uri_of_;
};

DatasetFormat parse_dataset_format(const std::string& name);  // auto, triples, beir, labels

EvalDataset load_dataset(const std::filesystem::path& path, const SkillResolver& resolver,
                         const DatasetOptions& options = {});

}  // namespace skillmatch
