#include "skillmatch/search/matcher.h"

#include <algorithm>

#include "core/hash.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/index/exact_search.h"
#include "skillmatch/index/indexer.h"

namespace skillmatch {

Matcher::Matcher(const Workspace& ws, const BiEncoder* encoder, const VectorStore* vectors,
                 const CrossEncoder* reranker)
    : ws_(ws), encoder_(encoder), reranker_(reranker), skills_(ws.skills()) {
  SM_CHECK((encoder == nullptr) == (vectors == nullptr), ErrorKind::kInvalidArgument,
           "dense retrieval needs both an embedding model and its vectors");
  for (std::size_t i = 0; i < skills_.size(); ++i) row_of_[skills_[i].id] = i;
  if (!encoder_) return;
  SM_CHECK(vectors->dimension() == encoder->dimension(), ErrorKind::kInvalidArgument,
           "the vectors have dimension " + std::to_string(vectors->dimension()) + ", the model " +
               std::to_string(encoder->dimension()));
  vectors_ = Matrix(skills_.size(), vectors->dimension());
  std::size_t missing = 0;
  for (std::size_t i = 0; i < skills_.size(); ++i) {
    const float* v = vectors->vector(skills_[i].id);
    if (!v) {
      ++missing;
      continue;
    }
    std::copy_n(v, vectors_.cols, vectors_.row(i));
  }
  SM_CHECK(missing == 0, ErrorKind::kInvalidArgument,
           "the index of " + vectors->identity().model + " is incomplete: " +
               std::to_string(missing) + " of " + std::to_string(skills_.size()) +
               " skills have no vector; run `skillmatch index` to finish it");
  query_prompt_ = encoder->prompt("query").value_or("");
}

std::uint64_t Matcher::vectors_fingerprint() const {
  std::uint64_t h = kFnvOffset;
  for (const Skill& s : skills_) fnv1a_mix(h, &s.id, sizeof s.id);
  fnv1a_mix(h, vectors_.data.data(), vectors_.data.size() * sizeof(float));
  return h;
}

AnnIndex Matcher::build_ann(const AnnOptions& options) const {
  SM_CHECK(encoder_, ErrorKind::kInvalidArgument, "an approximate index needs dense vectors");
  return AnnIndex::build(vectors_, vectors_fingerprint(), options);
}

void Matcher::use_ann(const AnnIndex* ann) {
  SM_CHECK(encoder_, ErrorKind::kInvalidArgument, "an approximate index needs dense vectors");
  SM_CHECK(ann == nullptr || (ann->fingerprint() == vectors_fingerprint() &&
                              ann->size() == skills_.size() && ann->dimension() == vectors_.cols),
           ErrorKind::kInvalidArgument,
           "the approximate index was built for other skills or vectors; run `skillmatch index "
           "--ann` again");
  ann_ = ann;
}

std::vector<char> Matcher::allowed_rows(const SkillFilter& filter) const {
  std::vector<char> allowed(skills_.size(), 1);
  if (filter.taxonomies.empty() && filter.collections.empty() && filter.skill_types.empty()) {
    return allowed;
  }
  std::fill(allowed.begin(), allowed.end(), 0);
  for (const std::int64_t id : ws_.skill_ids(filter)) {
    auto it = row_of_.find(id);
    if (it != row_of_.end()) allowed[it->second] = 1;
  }
  return allowed;
}

std::vector<Matcher::Candidate> Matcher::retrieve(const std::string& text, const float* query,
                                                  const MatchOptions& o,
                                                  const std::vector<char>& allowed) const {
  const bool dense = o.mode != RetrievalMode::kBm25;
  const bool sparse = o.mode != RetrievalMode::kDense;  // match_batch checked the encoder

  std::unordered_map<std::size_t, Candidate> by_row;
  std::vector<std::size_t> dense_order, sparse_order;
  if (dense) {
    // The approximate index when asked for, unless the filter leaves at most a tenth of the
    // skills: a graph search that must skip most nodes finds too few, and scanning the few
    // allowed rows exactly is fast.
    const std::size_t n_allowed =
        o.ann ? static_cast<std::size_t>(std::count(allowed.begin(), allowed.end(), 1)) : 0;
    const bool approximate = o.ann && n_allowed * 10 > allowed.size();
    SM_CHECK(!o.ann || ann_, ErrorKind::kInvalidArgument,
             "approximate search needs an index: run `skillmatch index --ann` first");
    const auto hits =
        approximate ? ann_->search(query, o.candidates,
                                   n_allowed == allowed.size() ? nullptr : &allowed, o.ef_search)
                    : exact_top_k(vectors_, query, o.candidates, &allowed);
    for (const auto& [score, row] : hits) {
      by_row[row].row = row;
      by_row[row].cosine = score;
      dense_order.push_back(row);
    }
  }
  if (sparse) {
    for (const Bm25Hit& h : ws_.bm25(text, o.candidates, o.filter, o.bm25_weights)) {
      auto it = row_of_.find(h.skill_id);
      if (it == row_of_.end() || !allowed[it->second]) continue;
      by_row[it->second].row = it->second;
      by_row[it->second].bm25 = h.score;
      sparse_order.push_back(it->second);
    }
  }
  std::vector<Candidate> out;
  for (auto& [row, c] : by_row) out.push_back(c);
  if (o.mode == RetrievalMode::kHybrid) {
    if (o.fusion == Fusion::kRrf) {
      std::unordered_map<std::size_t, std::size_t> index_of;  // skill row -> position in out
      for (std::size_t k = 0; k < out.size(); ++k) {
        out[k].fused = 0.0;
        index_of[out[k].row] = k;
      }
      auto add_ranks = [&](const std::vector<std::size_t>& order) {
        for (std::size_t rank = 0; rank < order.size(); ++rank) {
          *out[index_of[order[rank]]].fused += 1.0 / (o.rrf_k + double(rank + 1));
        }
      };
      add_ranks(dense_order);
      add_ranks(sparse_order);
    } else {
      auto range = [&](auto get) {
        double lo = 1e300, hi = -1e300;
        for (const auto& c : out) {
          if (auto v = get(c)) lo = std::min(lo, double(*v)), hi = std::max(hi, double(*v));
        }
        return std::pair<double, double>{lo, hi};
      };
      const auto [dlo, dhi] = range([](const Candidate& c) { return c.cosine; });
      const auto [blo, bhi] = range([](const Candidate& c) { return c.bm25; });
      auto norm = [](double v, double lo, double hi) {
        return hi > lo ? (v - lo) / (hi - lo) : 1.0;
      };
      for (auto& c : out) {
        const double d = c.cosine ? norm(*c.cosine, dlo, dhi) : 0.0;
        const double b = c.bm25 ? norm(*c.bm25, blo, bhi) : 0.0;
        c.fused = o.dense_weight * d + (1.0 - o.dense_weight) * b;
      }
    }
  }
  for (auto& c : out) {
    c.score = c.fused ? *c.fused : c.cosine ? double(*c.cosine) : c.bm25.value_or(0.0);
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.row < b.row;
  });
  if (out.size() > o.candidates) out.resize(o.candidates);
  return out;
}

std::vector<MatchResult> Matcher::match(const std::string& text, const MatchOptions& o) const {
  return match_batch({text}, o)[0];
}

std::vector<std::vector<MatchResult>> Matcher::match_batch(const std::vector<std::string>& texts,
                                                           const MatchOptions& o) const {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      validate_utf8(texts[i]);
    } catch (const Error& e) {
      rethrow_with_context(e, "text " + std::to_string(i + 1));
    }
  }
  SM_CHECK(o.candidates > 0, ErrorKind::kInvalidArgument, "candidates must be at least 1");
  const std::vector<char> allowed = allowed_rows(o.filter);
  Matrix queries;
  if (o.mode != RetrievalMode::kBm25) {
    SM_CHECK(encoder_, ErrorKind::kInvalidArgument,
             "dense and hybrid retrieval need an embedding model (--embedder)");
    queries = encoder_->embed(texts, query_prompt_);
  }
  std::vector<std::vector<Candidate>> cands(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    cands[i] = retrieve(texts[i], queries.rows ? queries.row(i) : nullptr, o, allowed);
  }
  // Rerank all pairs of all texts in one batched call.
  const bool rerank = o.rerank && reranker_;
  std::vector<float> logits;
  if (rerank) {
    std::vector<TextPair> pairs;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      for (const auto& c : cands[i]) {
        pairs.push_back({texts[i], format_skill(o.rerank_template, skills_[c.row])});
      }
    }
    logits = reranker_->score(pairs, o.rerank_max_length);
  }
  std::vector<std::vector<MatchResult>> out(texts.size());
  std::size_t next_logit = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<MatchResult>& res = out[i];
    for (const auto& c : cands[i]) {
      MatchResult r;
      r.skill = skills_[c.row];
      r.cosine = c.cosine;
      r.bm25 = c.bm25;
      r.fused = c.fused;
      r.score = c.score;
      if (rerank) {
        r.rerank_logit = logits[next_logit++];
        r.rerank_sigmoid = sigmoid(*r.rerank_logit);
        r.score = *r.rerank_sigmoid;
      }
      res.push_back(std::move(r));
    }
    // Reranked order; ties keep the retrieval order.
    std::stable_sort(res.begin(), res.end(), [](const MatchResult& a, const MatchResult& b) {
      const double la = a.rerank_logit ? double(*a.rerank_logit) : a.score;
      const double lb = b.rerank_logit ? double(*b.rerank_logit) : b.score;
      return la > lb;
    });
    if (o.threshold) {
      res.erase(std::remove_if(res.begin(), res.end(),
                               [&](const MatchResult& r) { return r.score < *o.threshold; }),
                res.end());
    }
    if (o.cut_at_largest_gap && res.size() > 1) {
      std::size_t cut = res.size();
      double widest = -1;
      for (std::size_t k = 0; k + 1 < res.size(); ++k) {
        const double gap = res[k].score - res[k + 1].score;
        if (gap > widest) widest = gap, cut = k + 1;
      }
      res.resize(cut);
    }
    if (res.size() > o.top) res.resize(o.top);
    for (std::size_t k = 0; k < res.size(); ++k) res[k].rank = k + 1;
  }
  return out;
}

}  // namespace skillmatch
