#include "skillmatch/eval/dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "skillmatch/core/csv.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/jsonl_reader.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/index/indexer.h"

namespace fs = std::filesystem;

namespace skillmatch {

SkillResolver::SkillResolver(const std::vector<Skill>& corpus,
                             const std::string& positive_template) {
  std::unordered_map<std::string, std::string> taxonomy_of;  // URI -> its taxonomy
  for (const Skill& s : corpus) {
    const auto [it, fresh] = taxonomy_of.emplace(s.record.uri, s.taxonomy);
    SM_CHECK(fresh, ErrorKind::kInvalidArgument,
             "the skill URI " + s.record.uri + " is in two taxonomies of the corpus (" +
                 it->second + " and " + s.taxonomy +
                 "); restrict the evaluation to one with --taxonomy");
    by_uri_.emplace(s.record.uri, s.id);
    uri_of_[s.id] = s.record.uri;
    by_label_[s.record.label].push_back(s.id);
    if (!positive_template.empty()) {
      by_text_[format_skill(positive_template, s)].push_back(s.id);
    }
  }
}

std::vector<std::int64_t> SkillResolver::resolve(const std::string& raw, bool* ambiguous) const {
  if (ambiguous) *ambiguous = false;
  // Surrounding white space is not part of a URI or label (TechWolf's labels carry some).
  const std::size_t b = raw.find_first_not_of(" \t\r\n");
  const std::size_t e = raw.find_last_not_of(" \t\r\n");
  const std::string value = b == std::string::npos ? std::string() : raw.substr(b, e - b + 1);
  if (auto it = by_uri_.find(value); it != by_uri_.end()) return {it->second};
  if (auto it = by_label_.find(value); it != by_label_.end()) {
    if (ambiguous) *ambiguous = it->second.size() > 1;
    return it->second;
  }
  if (auto it = by_text_.find(value); it != by_text_.end()) return it->second;
  return {};
}

const std::string& SkillResolver::uri(std::int64_t id) const {
  return uri_of_.at(id);
}

DatasetFormat parse_dataset_format(const std::string& name) {
  if (name == "auto") return DatasetFormat::kAuto;
  if (name == "triples") return DatasetFormat::kTriples;
  if (name == "beir") return DatasetFormat::kBeir;
  if (name == "labels") return DatasetFormat::kLabels;
  throw Error(ErrorKind::kInvalidArgument,
              "unknown dataset format '" + name + "' (auto, triples, beir or labels)");
}

namespace {

// Collects queries and their positives, merging repeated queries, counting what did not resolve.
class DatasetBuilder {
 public:
  DatasetBuilder(const SkillResolver& resolver, EvalDataset& out)
      : resolver_(resolver), out_(out) {}

  // Returns the index of the query with this key, creating it on first sight.
  std::size_t query(const std::string& key, const std::string& id, const std::string& text,
                    const std::string& where) {
    auto [it, fresh] = index_.emplace(key, pending_.size());
    if (fresh) {
      EvalQuery q;
      q.id = id.empty() ? "q" + std::to_string(pending_.size() + 1) : id;
      q.text = text;
      q.where = where;
      pending_.push_back(std::move(q));
    }
    return it->second;
  }

  void positive(std::size_t query, const std::string& value, const std::string& where) {
    ++out_.positives;
    bool ambiguous = false;
    const std::vector<std::int64_t> ids = resolver_.resolve(value, &ambiguous);
    if (ids.empty()) {
      auto [it, fresh] = unresolved_index_.emplace(value, out_.unresolved.size());
      if (fresh) out_.unresolved.push_back({value, 0, where});
      ++out_.unresolved[it->second].count;
      return;
    }
    ++out_.resolved_positives;
    if (ambiguous && ambiguous_seen_.insert(value).second) ++out_.ambiguous_labels;
    auto& rel = pending_[query].relevant;
    rel.insert(rel.end(), ids.begin(), ids.end());
  }

  void finish(const std::string& what) {
    SM_CHECK(!pending_.empty(), ErrorKind::kInvalidArgument, what + " has no queries");
    for (EvalQuery& q : pending_) {
      std::sort(q.relevant.begin(), q.relevant.end());
      q.relevant.erase(std::unique(q.relevant.begin(), q.relevant.end()), q.relevant.end());
      if (q.relevant.empty()) {
        ++out_.skipped_queries;
      } else {
        out_.queries.push_back(std::move(q));
      }
    }
  }

 private:
  const SkillResolver& resolver_;
  EvalDataset& out_;
  std::vector<EvalQuery> pending_;
  std::unordered_map<std::string, std::size_t> index_;
  std::unordered_map<std::string, std::size_t> unresolved_index_;
  std::set<std::string> ambiguous_seen_;
};

std::string text_of(const std::string& s, const std::string& where, const char* what) {
  try {
    validate_utf8(s);
  } catch (const Error& e) {
    rethrow_with_context(e, where + ": " + what);
  }
  return s;
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

void load_triples(const fs::path& path, DatasetBuilder& b, EvalDataset& out) {
  require_file(path, "dataset");
  std::ifstream in(path, std::ios::binary);
  JsonlReader reader(in, path.string());
  nlohmann::json rec;
  while (reader.next(rec)) {
    ++out.lines;
    const std::string where = reader.where();
    const char* key = rec.contains("anchor") ? "anchor" : "query";
    SM_CHECK(rec.contains(key) && rec[key].is_string() && !blank(rec[key].get<std::string>()),
             ErrorKind::kInvalidArgument,
             where + ": no query (a non-empty string under \"anchor\" or \"query\")");
    const std::string text = text_of(rec[key].get<std::string>(), where, "query");
    std::vector<std::string> positives;
    if (rec.contains("positive")) {
      const auto& p = rec["positive"];
      if (p.is_string()) {
        positives.push_back(p.get<std::string>());
      } else if (p.is_array()) {
        for (const auto& e : p) {
          SM_CHECK(e.is_string(), ErrorKind::kInvalidArgument,
                   where + ": \"positive\" must be a string or a list of strings");
          positives.push_back(e.get<std::string>());
        }
      } else {
        throw Error(ErrorKind::kInvalidArgument,
                    where + ": \"positive\" must be a string or a list of strings");
      }
    }
    positives.erase(std::remove_if(positives.begin(), positives.end(), blank), positives.end());
    SM_CHECK(!positives.empty(), ErrorKind::kInvalidArgument,
             where + ": no positives (\"positive\": a skill URI, label or text, or a list)");
    if (rec.contains("negative")) {
      SM_CHECK(rec["negative"].is_string() || rec["negative"].is_array(),
               ErrorKind::kInvalidArgument,
               where + ": \"negative\" must be a string or a list of strings");
    }
    std::string id;
    if (rec.contains("id") && (rec["id"].is_string() || rec["id"].is_number_integer())) {
      id = rec["id"].is_string() ? rec["id"].get<std::string>() : rec["id"].dump();
    }
    const std::size_t q = b.query(text, id, text, where);
    for (const auto& p : positives) b.positive(q, text_of(p, where, "positive"), where);
  }
  b.finish("the dataset " + path.string());
}

void load_labels(const fs::path& path, const DatasetOptions& o, DatasetBuilder& b,
                 EvalDataset& out) {
  CsvReader csv(path);
  const std::size_t tc = csv.require_column(o.text_column);
  const std::size_t lc = csv.require_column(o.label_column);
  std::vector<std::string> row;
  while (csv.next(row)) {
    ++out.lines;
    const std::string where = csv.where();
    SM_CHECK(!blank(row[tc]), ErrorKind::kInvalidArgument,
             where + ": no query (column " + o.text_column + " is empty)");
    SM_CHECK(!blank(row[lc]), ErrorKind::kInvalidArgument,
             where + ": no positive (column " + o.label_column + " is empty)");
    const std::size_t q = b.query(row[tc], "", row[tc], where);
    b.positive(q, row[lc], where);
  }
  b.finish("the dataset " + path.string());
}

// The "_id" of a BEIR record; errors name the file and line.
std::string beir_id(const nlohmann::json& rec, const std::string& where) {
  try {
    return JsonlReader::require_string(rec, "_id");
  } catch (const Error& e) {
    rethrow_with_context(e, where);
  }
}

// BEIR: the corpus documents referenced by the qrels are resolved like positives (URI, title
// as label, text as rendering).
void load_beir(const fs::path& dir, const DatasetOptions& o, const SkillResolver& resolver,
               DatasetBuilder& b, EvalDataset& out) {
  const fs::path queries_path = dir / "queries.jsonl";
  const fs::path corpus_path = dir / "corpus.jsonl";
  const fs::path qrels_path = dir / "qrels" / (o.beir_split + ".tsv");
  require_file(queries_path, "BEIR queries file");
  require_file(corpus_path, "BEIR corpus file");
  require_file(qrels_path, "BEIR qrels file");

  std::unordered_map<std::string, std::pair<std::string, std::string>> queries;  // id->text,where
  std::vector<std::string> query_order;
  {
    std::ifstream in(queries_path, std::ios::binary);
    JsonlReader reader(in, queries_path.string());
    nlohmann::json rec;
    while (reader.next(rec)) {
      const std::string where = reader.where();
      const std::string id = beir_id(rec, where);
      SM_CHECK(
          rec.contains("text") && rec["text"].is_string() && !blank(rec["text"].get<std::string>()),
          ErrorKind::kInvalidArgument, where + ": no query text (\"text\")");
      const std::string text = text_of(rec["text"].get<std::string>(), where, "query");
      SM_CHECK(queries.emplace(id, std::make_pair(text, where)).second, ErrorKind::kInvalidArgument,
               where + ": query id " + id + " appears twice");
      query_order.push_back(id);
    }
  }
  // Corpus id -> the string a positive resolves by (URI, title or text, whichever resolves).
  std::unordered_map<std::string, std::string> doc_key;
  {
    std::ifstream in(corpus_path, std::ios::binary);
    JsonlReader reader(in, corpus_path.string());
    nlohmann::json rec;
    while (reader.next(rec)) {
      const std::string id = beir_id(rec, reader.where());
      // The first of _id, title, text that names a skill; the _id when none does (reported
      // as unresolved).
      std::vector<std::string> candidates{id};
      for (const char* field : {"title", "text"}) {
        if (rec.contains(field) && rec[field].is_string()) {
          candidates.push_back(rec[field].get<std::string>());
        }
      }
      const auto it = std::find_if(candidates.begin(), candidates.end(), [&](const auto& c) {
        return !blank(c) && !resolver.resolve(c).empty();
      });
      doc_key[id] = it == candidates.end() ? id : *it;
    }
  }
  // Query ids that appear in the qrels keep the order of queries.jsonl.
  struct Judgement {
    std::string doc, where;
  };
  std::unordered_map<std::string, std::vector<Judgement>> judged;
  {
    std::ifstream in(qrels_path, std::ios::binary);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (blank(line)) continue;
      const std::string where = qrels_path.string() + " line " + std::to_string(n);
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
      if (n == 1 && f.size() >= 1 && f[0] == "query-id") continue;  // header
      SM_CHECK(f.size() == 3, ErrorKind::kInvalidArgument,
               where + ": expected 3 tab-separated fields (query-id, corpus-id, score), found " +
                   std::to_string(f.size()));
      ++out.lines;
      SM_CHECK(queries.count(f[0]), ErrorKind::kInvalidArgument,
               where + ": query id " + f[0] + " is not in " + queries_path.string());
      double score = 0;
      try {
        std::size_t used = 0;
        score = std::stod(f[2], &used);
        // stod reads "nan" and "inf" too; NaN compared as relevant (not <= 0).
        SM_CHECK(used == f[2].size() && std::isfinite(score), ErrorKind::kInvalidArgument, "");
      } catch (const std::exception&) {
        throw Error(ErrorKind::kInvalidArgument, where + ": score '" + f[2] + "' is not a number");
      }
      if (score <= 0) continue;
      SM_CHECK(doc_key.count(f[1]), ErrorKind::kInvalidArgument,
               where + ": corpus id " + f[1] + " is not in " + corpus_path.string());
      judged[f[0]].push_back({f[1], where});
    }
  }
  for (const std::string& id : query_order) {
    auto it = judged.find(id);
    if (it == judged.end()) continue;  // not part of this split
    const auto& [text, where] = queries.at(id);
    const std::size_t q = b.query(id, id, text, where);
    for (const auto& j : it->second) b.positive(q, doc_key.at(j.doc), j.where);
  }
  b.finish("the BEIR split " + qrels_path.string());
}

}  // namespace

EvalDataset load_dataset(const fs::path& path, const SkillResolver& resolver,
                         const DatasetOptions& o) {
  DatasetFormat f = o.format;
  if (f == DatasetFormat::kAuto) {
    if (fs::is_directory(path)) {
      f = DatasetFormat::kBeir;
    } else {
      std::string ext = path.extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      f = ext == ".csv" ? DatasetFormat::kLabels : DatasetFormat::kTriples;
    }
  }
  EvalDataset out;
  out.name =
      path.filename().empty() ? path.parent_path().filename().string() : path.stem().string();
  DatasetBuilder b(resolver, out);
  switch (f) {
    case DatasetFormat::kBeir:
      out.format = "beir";
      require_directory(path, "BEIR dataset folder");
      load_beir(path, o, resolver, b, out);
      break;
    case DatasetFormat::kLabels:
      out.format = "labels";
      load_labels(path, o, b, out);
      break;
    default:
      out.format = "triples";
      load_triples(path, b, out);
      break;
  }
  return out;
}

}  // namespace skillmatch
