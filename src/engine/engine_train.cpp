// The Engine's training requests: `train embedder`, `train reranker` (src/train does the
// training; this file resolves the models, the skills URIs name, and the evaluation against the
// workspace) and `mine-negatives`.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "catalog/analyzer.h"
#include "engine/engine_internal.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/jsonl_reader.h"
#include "skillmatch/core/matrix.h"
#include "skillmatch/engine.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/index/dense_index.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

using LogFn = std::function<void(const std::string&)>;

// The workspace's skills that pass a filter, read once when first needed.
class SkillList {
 public:
  SkillList(Engine& engine, SkillFilter filter) : engine_(engine), filter_(std::move(filter)) {}

  const std::vector<Skill>& skills() {
    if (!loaded_) {
      engine_.skill_count(filter_);  // creates and seeds the workspace on first use
      skills_ = Workspace::open(engine_.workspace_dir(), false).skills(filter_);
      for (std::size_t i = 0; i < skills_.size(); ++i) by_uri_.emplace(skills_[i].record.uri, i);
      loaded_ = true;
    }
    return skills_;
  }

  const Skill* find(const std::string& uri) {
    skills();
    auto it = by_uri_.find(uri);
    return it == by_uri_.end() ? nullptr : &skills_[it->second];
  }

 private:
  Engine& engine_;
  SkillFilter filter_;
  bool loaded_ = false;
  std::vector<Skill> skills_;
  std::unordered_map<std::string, std::size_t> by_uri_;
};

void check_train_request(const std::string& base, const fs::path& train, const TrainSettings& s) {
  SM_CHECK(!base.empty(), ErrorKind::kInvalidArgument, "base: no model to start from (--base)");
  SM_CHECK(!train.empty(), ErrorKind::kInvalidArgument, "train: no training data (--train)");
  SM_CHECK(!s.out.empty(), ErrorKind::kInvalidArgument, "out: no output folder (--out)");
}

std::vector<TrainExample> read_training_data(const fs::path& file, SkillList& skills,
                                             const std::string& skill_template, const LogFn& log) {
  const UriResolver resolver = [&](const std::string& uri) -> std::optional<std::string> {
    const Skill* s = skills.find(uri);
    if (!s) return std::nullopt;
    return format_skill(skill_template, *s);
  };
  std::vector<TrainExample> data = load_train_data(file, resolver);
  std::size_t negatives = 0;
  for (const TrainExample& e : data) negatives += e.negatives.size();
  if (log) {
    log(file.string() + ": " + std::to_string(data.size()) + " training examples, " +
        std::to_string(negatives) + " hard negatives");
  }
  return data;
}

void normalize_rows(Matrix& m) {
  for (std::size_t r = 0; r < m.rows; ++r) {
    float* v = m.row(r);
    double n = 0;
    for (std::size_t c = 0; c < m.cols; ++c) n += double(v[c]) * v[c];
    const double inv = 1.0 / std::max(std::sqrt(n), 1e-12);
    for (std::size_t c = 0; c < m.cols; ++c) v[c] = static_cast<float>(v[c] * inv);
  }
}

// The best `k` of `scores` (higher first; ties by index), as (index, score).
std::vector<RankedCandidate> top_k(const std::vector<float>& scores, std::size_t k) {
  std::vector<std::size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                    [&](std::size_t a, std::size_t b) {
                      return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
                    });
  std::vector<RankedCandidate> out;
  for (std::size_t i = 0; i < k; ++i) out.push_back({idx[i], scores[idx[i]]});
  return out;
}

// The best `k` rows of `corpus` for the unit vector `q`, by the exact scan that dense matching
// uses (DenseIndex), so that rankings here are those `eval` and `match` give.
std::vector<RankedCandidate> dense_top_k(const Matrix& corpus, const float* q, std::size_t k) {
  std::vector<RankedCandidate> out;
  for (const auto& [score, row] : exact_top_k(corpus, q, k)) out.push_back({row, score});
  return out;
}

// The evaluation dataset resolved against the corpus, as `skillmatch eval` resolves it.
EvalDataset load_eval_set(const fs::path& file, const std::vector<Skill>& corpus, std::size_t limit,
                          const LogFn& log) {
  const SkillResolver resolver(corpus, DatasetOptions().positive_template);
  EvalDataset data = load_dataset(file, resolver, DatasetOptions());
  if (limit && data.queries.size() > limit) data.queries.resize(limit);
  if (log) {
    log(file.string() + ": evaluating " + std::to_string(data.queries.size()) +
        " queries against " + std::to_string(corpus.size()) + " skills" +
        (data.unresolved.empty()
             ? std::string()
             : " (" + std::to_string(data.unresolved.size()) + " positives did not resolve)"));
  }
  return data;
}

// Okapi BM25 (k1 1.2, b 0.75) over the texts of a corpus file, with the workspace's analysis.
class Bm25Texts {
 public:
  explicit Bm25Texts(const std::vector<std::string>& texts) : lengths_(texts.size()) {
    double total = 0;
    for (std::size_t d = 0; d < texts.size(); ++d) {
      std::unordered_map<std::string, std::uint32_t> tf;
      for (const std::string& t : catalog::analyze(texts[d])) ++tf[t];
      for (const auto& [term, n] : tf) postings_[term].push_back({d, n});
      for (const auto& kv : tf) lengths_[d] += kv.second;
      total += lengths_[d];
    }
    avg_ = texts.empty() ? 1 : std::max(1.0, total / double(texts.size()));
  }

  std::vector<RankedCandidate> rank(const std::string& query, std::size_t k) const {
    std::vector<float> score(lengths_.size(), 0.0f);
    const double n = double(lengths_.size());
    std::unordered_set<std::string> seen;
    for (const std::string& t : catalog::analyze(query)) {
      if (!seen.insert(t).second) continue;
      auto it = postings_.find(t);
      if (it == postings_.end()) continue;
      const double df = double(it->second.size());
      const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
      for (const auto& [doc, tf] : it->second) {
        const double f = tf, len = lengths_[doc];
        score[doc] += static_cast<float>(idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len / avg_)));
      }
    }
    std::vector<RankedCandidate> top = top_k(score, k);
    while (!top.empty() && top.back().score <= 0) top.pop_back();
    return top;
  }

 private:
  std::unordered_map<std::string, std::vector<std::pair<std::size_t, std::uint32_t>>> postings_;
  std::vector<double> lengths_;
  double avg_ = 1;
};

struct MineRow {
  std::string query;
  std::vector<std::string> positives;  // as given
  nlohmann::json id;
};

std::vector<MineRow> read_mine_rows(const fs::path& file) {
  require_file(file, "input");
  std::ifstream in(file, std::ios::binary);
  JsonlReader reader(in, file.string());
  std::vector<MineRow> rows;
  nlohmann::json obj;
  while (reader.next(obj)) {
    const std::string where = reader.where();
    auto text = [&](const nlohmann::json& v, const std::string& key) {
      SM_CHECK(
          v.is_string() && v.get<std::string>().find_first_not_of(" \t\r\n") != std::string::npos,
          ErrorKind::kInvalidArgument, where + ": \"" + key + "\" must be a non-empty text");
      return v.get<std::string>();
    };
    MineRow r;
    const char* qkey = obj.contains("anchor") ? "anchor" : "query";
    SM_CHECK(obj.contains(qkey), ErrorKind::kInvalidArgument,
             where + ": no query: expected \"anchor\" or \"query\"");
    r.query = text(obj[qkey], qkey);
    const char* pkey = obj.contains("pos") ? "pos" : "positive";
    SM_CHECK(obj.contains(pkey), ErrorKind::kInvalidArgument,
             where +
                 ": no positives: expected \"positive\" or \"pos\" (a labelled pair has "
                 "nothing to mine for)");
    const nlohmann::json& p = obj[pkey];
    if (p.is_array()) {
      for (std::size_t i = 0; i < p.size(); ++i) {
        r.positives.push_back(text(p[i], std::string(pkey) + "[" + std::to_string(i) + "]"));
      }
    } else {
      r.positives.push_back(text(p, pkey));
    }
    SM_CHECK(!r.positives.empty(), ErrorKind::kInvalidArgument,
             where + ": the list of positives is empty");
    if (obj.contains("id")) r.id = obj["id"];
    rows.push_back(std::move(r));
  }
  SM_CHECK(!rows.empty(), ErrorKind::kInvalidArgument, file.string() + ": no rows");
  return rows;
}

std::vector<std::string> read_corpus_file(const fs::path& file) {
  require_file(file, "corpus");
  std::ifstream in(file, std::ios::binary);
  JsonlReader reader(in, file.string());
  std::vector<std::string> texts;
  nlohmann::json obj;
  while (reader.next(obj)) {
    try {
      texts.push_back(JsonlReader::require_string(obj, "text"));
    } catch (const Error& e) {
      rethrow_with_context(e, reader.where());
    }
  }
  SM_CHECK(!texts.empty(), ErrorKind::kInvalidArgument, file.string() + ": no texts");
  return texts;
}

// What both training requests do first: check them, read the base folder and the data, and
// resolve the evaluation set (if any) against the workspace's skills.
struct TrainSetup {
  ModelFolder base;
  std::unique_ptr<SkillList> skills;
  std::vector<TrainExample> data;
  TrainEvents events;
  EvalDataset eval;
  const std::vector<Skill>* corpus = nullptr;  // with an evaluation set
};

template <class Options>
TrainSetup setup_training(Engine& engine, const Options& o, const TrainSettings& s,
                          const std::string& skill_template, const LogFn& note,
                          const std::function<void(const TrainProgress&)>& progress) {
  check_train_request(o.base, o.train_file, s);
  TrainSetup t{ModelFolder::read(resolve_model(o.base)),
               std::make_unique<SkillList>(engine, o.corpus),
               {},
               {},
               {},
               nullptr};
  t.data = read_training_data(o.train_file, *t.skills, skill_template, note);
  t.events.note = note;
  t.events.on_progress = progress;
  if (!o.eval_file.empty()) {
    t.corpus = &t.skills->skills();
    SM_CHECK(!t.corpus->empty(), ErrorKind::kInvalidArgument,
             "the workspace has no skills to evaluate against");
    t.eval = load_eval_set(o.eval_file, *t.corpus, o.eval_limit, note);
  }
  return t;
}

}  // namespace

// ------------------------------------------------------------------------------ train embedder

TrainReport Engine::train_embedder(const TrainEmbedderOptions& o,
                                   const std::function<void(const TrainProgress&)>& progress) {
  TrainSetup t = setup_training(*this, o, o.settings.train, o.passage_template,
                                engine_options(*impl_).log, progress);
  std::vector<std::string> passages;
  if (t.corpus) {
    for (const Skill& s : *t.corpus) passages.push_back(format_skill(o.passage_template, s));
    // Ranks the whole corpus by cosine, as `eval -c mode=dense` does with the saved model.
    t.events.evaluate = [&t, &passages,
                         query_prompt = o.settings.query_prompt](const TrainingModelView& m) {
      Matrix p = m.embed(passages, "");
      normalize_rows(p);
      std::vector<std::string> texts;
      for (const EvalQuery& q : t.eval.queries) texts.push_back(q.text);
      Matrix q = m.embed(texts, query_prompt);
      normalize_rows(q);
      const MetricCutoffs cutoffs;
      MetricAccumulator acc(cutoffs);
      for (std::size_t i = 0; i < t.eval.queries.size(); ++i) {
        std::vector<std::int64_t> ranking;
        for (const RankedCandidate& c : dense_top_k(p, q.row(i), cutoffs.max_k())) {
          ranking.push_back((*t.corpus)[c.id].id);
        }
        const auto& rel = t.eval.queries[i].relevant;
        acc.add(ranking, std::unordered_set<std::int64_t>(rel.begin(), rel.end()));
      }
      return acc.means();
    };
  }
  if (o.settings.max_length > 0 && engine_options(*impl_).log) {
    // As sentence-transformers saves a max_seq_length set for training: say so, since it also
    // cuts texts at inference.
    engine_options(*impl_).log("the saved model will read at most " +
                               std::to_string(o.settings.max_length) +
                               " ids per text (--max-length is saved as its max_seq_length; edit "
                               "sentence_bert_config.json for longer texts at inference)");
  }
  return skillmatch::train_embedder(t.base, t.data, o.settings, t.events);
}

// ------------------------------------------------------------------------------ train reranker

TrainReport Engine::train_reranker(const TrainRerankerOptions& o,
                                   const std::function<void(const TrainProgress&)>& progress) {
  TrainSetup t = setup_training(*this, o, o.settings.train, o.rerank_template,
                                engine_options(*impl_).log, progress);
  const EvalDataset& eval = t.eval;
  // Per query: the retrieved candidates (skill id, what the reranker sees of it).
  std::vector<std::vector<std::pair<std::int64_t, std::string>>> candidates;
  if (t.corpus) {
    MatchOptions mo;
    try {
      match_option_table().set_pairs(mo, o.eval_retrieval, "eval-retrieval");
    } catch (const Error& e) {
      rethrow_with_context(e, "eval-retrieval");
    }
    mo.reranker.clear();
    mo.search.rerank = false;
    mo.search.candidates = o.eval_depth;
    mo.search.top = o.eval_depth;
    mo.search.threshold.reset();
    mo.search.cut_at_largest_gap = false;
    mo.search.filter = o.corpus;
    std::vector<std::string> texts;
    for (const EvalQuery& q : eval.queries) texts.push_back(q.text);
    constexpr std::size_t kChunk = 256;
    for (std::size_t b = 0; b < texts.size(); b += kChunk) {
      const std::vector<std::string> chunk(
          texts.begin() + static_cast<std::ptrdiff_t>(b),
          texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), b + kChunk)));
      for (const auto& results : match_batch(chunk, mo)) {
        candidates.emplace_back();
        for (const MatchResult& r : results) {
          candidates.back().emplace_back(r.skill.id, format_skill(o.rerank_template, r.skill));
        }
      }
    }
    t.events.evaluate = [&eval, &candidates](const TrainingModelView& m) {
      std::vector<TextPair> pairs;
      for (std::size_t i = 0; i < eval.queries.size(); ++i) {
        for (const auto& c : candidates[i]) pairs.emplace_back(eval.queries[i].text, c.second);
      }
      const std::vector<float> scores = m.score(pairs);
      MetricAccumulator acc{MetricCutoffs()};
      std::size_t k = 0;
      for (std::size_t i = 0; i < eval.queries.size(); ++i) {
        const auto& cand = candidates[i];
        std::vector<std::size_t> order(cand.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
          return scores[k + a] > scores[k + b];
        });
        std::vector<std::int64_t> ranking;
        for (const std::size_t j : order) ranking.push_back(cand[j].first);
        k += cand.size();
        const auto& rel = eval.queries[i].relevant;
        acc.add(ranking, std::unordered_set<std::int64_t>(rel.begin(), rel.end()));
      }
      return acc.means();
    };
  }
  return skillmatch::train_reranker(t.base, t.data, o.settings, t.events);
}

// ------------------------------------------------------------------------------ mine-negatives

MineReport Engine::mine_negatives(const MineOptions& o, const ProgressFn& progress) {
  SM_CHECK(!o.input.empty(), ErrorKind::kInvalidArgument, "input: no input file (--input)");
  SM_CHECK(!o.output.empty(), ErrorKind::kInvalidArgument, "out: no output file (--out)");
  const MiningSettings& ms = o.mining;
  SM_CHECK(ms.range_min < ms.range_max, ErrorKind::kInvalidArgument,
           "range-min (" + std::to_string(ms.range_min) + ") must be below range-max (" +
               std::to_string(ms.range_max) + ")");
  const bool needs_scores =
      ms.relative_margin || ms.absolute_margin || ms.max_score || ms.min_score;
  const bool dense = !o.match.embedder.empty();
  SM_CHECK(!needs_scores || dense, ErrorKind::kInvalidArgument,
           "--relative-margin, --absolute-margin, --max-score and --min-score compare cosine "
           "similarities: they need --embedder");
  const std::vector<MineRow> rows = read_mine_rows(o.input);
  const LogFn note = engine_options(*impl_).log;

  MineReport report;
  report.rows = rows.size();
  report.ranking = dense ? "dense (" + o.match.embedder + ")" : "BM25";
  std::vector<std::string> queries;
  for (const MineRow& r : rows) queries.push_back(r.query);

  EmbedOptions query_embed, passage_embed;
  query_embed.model = passage_embed.model = o.match.embedder;
  query_embed.settings = passage_embed.settings = o.match.settings;
  if (dense) {
    // The model's own prompts, as `match` and `index` use them.
    const ModelInfo info = model_info(o.match.embedder, o.match.settings);
    query_embed.prompt_name = info.prompts.count("query") ? "query" : "none";
    passage_embed.prompt_name = info.prompts.count("passage") ? "passage" : "none";
  }
  // Positives as they are embedded: (text, literal); a literal text gets the passage prompt, a
  // skill rendered by the passage template carries its own.
  using Positives = std::vector<std::vector<std::pair<std::string, bool>>>;
  // The lowest cosine of each row's query to its positives (for the margins).
  auto positive_scores = [&](const Positives& pos) {
    std::vector<std::optional<double>> out(rows.size());
    if (!needs_scores) return out;
    Matrix q = embed(queries, query_embed);
    normalize_rows(q);
    for (const bool literal : {true, false}) {
      std::vector<std::string> texts;
      std::vector<std::size_t> owner;
      for (std::size_t i = 0; i < pos.size(); ++i) {
        for (const auto& [text, lit] : pos[i]) {
          if (lit != literal) continue;
          texts.push_back(text);
          owner.push_back(i);
        }
      }
      if (texts.empty()) continue;
      EmbedOptions e = passage_embed;
      if (!literal) e.prompt_name = "none";
      Matrix p = embed(texts, e);
      normalize_rows(p);
      for (std::size_t k = 0; k < texts.size(); ++k) {
        const double score = dot_double(p.row(k), q.row(owner[k]), p.cols);
        std::optional<double>& v = out[owner[k]];
        v = v ? std::min(*v, score) : score;
      }
    }
    return out;
  };

  std::vector<std::vector<std::string>> negatives(rows.size());
  if (o.corpus_file.empty()) {
    // Candidates: the workspace's skills, ranked as `match --mode dense|bm25` ranks them.
    SkillList list(*this, o.match.search.filter);
    const std::vector<Skill>& skills = list.skills();
    SM_CHECK(!skills.empty(), ErrorKind::kInvalidArgument,
             "the workspace has no skills that pass the filter");
    report.corpus = "workspace (" + std::to_string(skills.size()) + " skills)";
    std::unordered_map<std::int64_t, std::size_t> index_of;
    for (std::size_t i = 0; i < skills.size(); ++i) index_of.emplace(skills[i].id, i);
    const SkillResolver resolver(skills, o.negative_template);
    std::vector<std::unordered_set<std::size_t>> positive_ids(rows.size());
    Positives pos(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (const std::string& p : rows[i].positives) {
        const std::vector<std::int64_t> ids = resolver.resolve(p);
        if (ids.empty()) {
          ++report.unresolved_positives;
          pos[i].emplace_back(p, true);
          continue;
        }
        for (const std::int64_t id : ids) {
          positive_ids[i].insert(index_of.at(id));
          pos[i].emplace_back(format_skill(o.match.passage_template, skills[index_of.at(id)]),
                              false);
        }
      }
    }
    const std::vector<std::optional<double>> pos_score = positive_scores(pos);
    MatchOptions mo = o.match;
    mo.reranker.clear();
    mo.search.rerank = false;
    mo.search.mode = dense ? RetrievalMode::kDense : RetrievalMode::kBm25;
    mo.search.candidates = ms.range_max;
    mo.search.top = ms.range_max;
    mo.search.threshold.reset();
    mo.search.cut_at_largest_gap = false;
    mo.search.explain = false;
    constexpr std::size_t kChunk = 256;
    for (std::size_t b = 0; b < rows.size(); b += kChunk) {
      const std::size_t e = std::min(rows.size(), b + kChunk);
      const std::vector<std::string> chunk(queries.begin() + static_cast<std::ptrdiff_t>(b),
                                           queries.begin() + static_cast<std::ptrdiff_t>(e));
      const auto results = match_batch(chunk, mo);
      for (std::size_t i = b; i < e; ++i) {
        std::vector<RankedCandidate> ranked;
        for (const MatchResult& r : results[i - b]) {
          ranked.push_back({index_of.at(r.skill.id), r.cosine ? double(*r.cosine) : r.score});
        }
        const auto picked = select_negatives(
            ranked, [&](std::size_t id) { return positive_ids[i].count(id) > 0; }, pos_score[i], ms,
            i, skills.size(), report.stats);
        const bool as_uri = looks_like_uri(rows[i].positives[0]);
        for (const RankedCandidate& c : picked) {
          negatives[i].push_back(as_uri ? skills[c.id].record.uri
                                        : format_skill(o.negative_template, skills[c.id]));
        }
      }
      if (progress) progress(e, rows.size());
    }
  } else {
    // Candidates: the texts of a corpus file.
    const std::vector<std::string> texts = read_corpus_file(o.corpus_file);
    report.corpus = o.corpus_file.string() + " (" + std::to_string(texts.size()) + " texts)";
    std::unordered_map<std::string, std::vector<std::size_t>> by_text;
    for (std::size_t i = 0; i < texts.size(); ++i) by_text[texts[i]].push_back(i);
    Positives pos(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (const std::string& p : rows[i].positives) pos[i].emplace_back(p, true);
    }
    const std::vector<std::optional<double>> pos_score = positive_scores(pos);
    Matrix corpus_vectors, query_vectors;
    std::unique_ptr<Bm25Texts> bm25;
    if (dense) {
      corpus_vectors = embed(texts, passage_embed);
      normalize_rows(corpus_vectors);
      query_vectors = embed(queries, query_embed);
      normalize_rows(query_vectors);
    } else {
      bm25 = std::make_unique<Bm25Texts>(texts);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::unordered_set<std::size_t> excluded;
      for (const std::string& p : rows[i].positives) {
        auto it = by_text.find(p);
        if (it == by_text.end()) {
          ++report.unresolved_positives;
        } else {
          excluded.insert(it->second.begin(), it->second.end());
        }
      }
      if (auto it = by_text.find(rows[i].query); it != by_text.end()) {
        excluded.insert(it->second.begin(), it->second.end());  // the query itself, as hn_mine
      }
      const std::vector<RankedCandidate> ranked =
          dense ? dense_top_k(corpus_vectors, query_vectors.row(i), ms.range_max)
                : bm25->rank(rows[i].query, ms.range_max);
      for (const RankedCandidate& c : select_negatives(
               ranked, [&](std::size_t id) { return excluded.count(id) > 0; }, pos_score[i], ms, i,
               texts.size(), report.stats)) {
        negatives[i].push_back(texts[c.id]);
      }
      if (progress && (i + 1 == rows.size() || (i + 1) % 256 == 0)) progress(i + 1, rows.size());
    }
  }

  write_file_atomic(o.output, [&](std::FILE* f) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      nlohmann::ordered_json j;
      if (!rows[i].id.is_null()) j["id"] = rows[i].id;
      j["query"] = rows[i].query;
      j["pos"] = rows[i].positives;
      j["neg"] = negatives[i];
      const std::string line = j.dump() + "\n";
      SM_CHECK(std::fwrite(line.data(), 1, line.size(), f) == line.size(), ErrorKind::kIo,
               "cannot write " + o.output.string());
    }
  });
  if (note && report.unresolved_positives) {
    note(std::to_string(report.unresolved_positives) +
         " positive(s) named no candidate (no skill by URI, label or --negative-template "
         "rendering; no identical corpus text): they cannot be kept out of the negatives, the "
         "rank window and margins still guard them");
  }
  return report;
}

}  // namespace skillmatch
