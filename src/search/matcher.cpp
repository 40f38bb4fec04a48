#include "skillmatch/search/matcher.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "catalog/analyzer.h"
#include "skillmatch/catalog/skill_format.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/matrix.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/search/support.h"

namespace skillmatch {
namespace {

bool has_filter(const SkillFilter& f) {
  return !f.taxonomies.empty() || !f.collections.empty() || !f.skill_types.empty() ||
         !f.groups.empty();
}

}  // namespace

const char* retrieval_mode_name(RetrievalMode mode) noexcept {
  switch (mode) {
    case RetrievalMode::kDense:
      return "dense";
    case RetrievalMode::kBm25:
      return "bm25";
    case RetrievalMode::kHybrid:
      return "hybrid";
  }
  return "?";
}

const char* fusion_name(Fusion fusion) noexcept {
  return fusion == Fusion::kRrf ? "rrf" : "weighted";
}

Matcher::Matcher(std::shared_ptr<const SkillSet> skills, std::optional<BiEncoder> encoder,
                 std::shared_ptr<const DenseIndex> dense, std::optional<CrossEncoder> reranker,
                 ModelRunner runner)
    : skills_(std::move(skills)),
      encoder_(std::move(encoder)),
      dense_(std::move(dense)),
      reranker_(std::move(reranker)),
      runner_(std::move(runner)) {
  SM_ASSERT(skills_ != nullptr);
  SM_CHECK(encoder_.has_value() == (dense_ != nullptr), ErrorKind::kInvalidArgument,
           "dense retrieval needs both an embedding model and its vectors");
  if (!encoder_) return;
  SM_CHECK(dense_->dimension() == encoder_->dimension(), ErrorKind::kInvalidArgument,
           "the vectors have dimension " + std::to_string(dense_->dimension()) + ", the model " +
               std::to_string(encoder_->dimension()));
  query_prompt_ = encoder_->prompt("query").value_or("");
  if (!query_prompt_.empty()) query_prompt_length_ = encoder_->prompt_token_count(query_prompt_);
}

Matrix Matcher::embed(const std::vector<TokenIds>& inputs) const {
  if (runner_.embed) return runner_.embed(inputs, query_prompt_length_);
  return encoder_->embed_tokens(inputs, query_prompt_length_);
}

std::vector<float> Matcher::score(const std::vector<TokenIds>& pairs) const {
  if (runner_.score) return runner_.score(pairs);
  return reranker_->score_tokens(pairs);
}

void Matcher::explain(const std::string& text, std::vector<MatchResult>& results) const {
  const std::vector<TextSpan> spans = support_candidates(text);
  if (spans.empty() || results.empty()) return;
  std::vector<std::string> span_texts;
  for (const TextSpan& s : spans) span_texts.push_back(text.substr(s.start, s.end - s.start));
  auto set = [&](MatchResult& r, std::size_t best, double score, const char* method) {
    r.support = SupportSpan{spans[best].start, spans[best].end, span_texts[best], score, method};
  };
  if (encoder_) {
    // The span whose embedding (as a query) is nearest to the skill's vector.
    const Matrix e = embed(encoder_->tokenize(span_texts, query_prompt_));
    for (MatchResult& r : results) {
      const auto row = dense_->row_of(r.skill.id);
      if (!row) continue;
      const float* v = dense_->vectors().row(*row);
      std::size_t best = 0;
      double best_score = -2;
      for (std::size_t i = 0; i < spans.size(); ++i) {
        const double score = dot_double(e.row(i), v, e.cols);
        if (score > best_score) best_score = score, best = i;
      }
      set(r, best, best_score, "embedding");
    }
    return;
  }
  // Without an embedder: the span with the largest share of the skill's label words (analysed as
  // BM25 analyses them: in the language of the skill's taxonomy), ties to the shorter span.
  std::map<catalog::Analysis, std::vector<std::vector<std::string>>> terms_by_analysis;
  for (MatchResult& r : results) {
    const catalog::Analysis analysis = catalog::analysis_for(r.skill.language);
    auto [at, fresh] = terms_by_analysis.try_emplace(analysis);
    std::vector<std::vector<std::string>>& span_terms = at->second;
    if (fresh) {
      for (const auto& t : span_texts) {
        auto terms = catalog::analyze(t, analysis);
        std::sort(terms.begin(), terms.end());
        span_terms.push_back(std::move(terms));
      }
    }
    std::string label_text = r.skill.record.label;
    for (const auto& a : r.skill.record.alt_labels) label_text += " " + a;
    auto label = catalog::analyze(label_text, analysis);
    std::sort(label.begin(), label.end());
    label.erase(std::unique(label.begin(), label.end()), label.end());
    if (label.empty()) continue;
    std::size_t best = spans.size();
    double best_score = 0;
    for (std::size_t i = 0; i < spans.size(); ++i) {
      std::size_t shared = 0;
      for (const auto& term : label) {
        shared += std::binary_search(span_terms[i].begin(), span_terms[i].end(), term) ? 1 : 0;
      }
      const double score = double(shared) / double(label.size());
      if (score > best_score ||
          (score == best_score && best < spans.size() && score > 0 &&
           spans[i].end - spans[i].start < spans[best].end - spans[best].start)) {
        best_score = score, best = i;
      }
    }
    if (best < spans.size()) set(r, best, best_score, "words");
  }
}

std::vector<Matcher::Candidate> Matcher::fuse(const std::vector<DenseHit>& dense,
                                              const std::vector<Bm25Hit>& sparse,
                                              const SearchOptions& o,
                                              const std::vector<char>& allowed) const {
  std::vector<Candidate> out;
  std::unordered_map<std::size_t, std::size_t> slot;  // skill position -> index in out
  auto candidate = [&](std::size_t skill) -> Candidate& {
    auto [it, fresh] = slot.emplace(skill, out.size());
    if (fresh) {
      out.emplace_back();
      out.back().skill = skill;
    }
    return out[it->second];
  };
  std::vector<std::size_t> dense_order, sparse_order;
  for (const DenseHit& h : dense) {
    const auto it = skills_->position.find(dense_->skill_id(h.row));
    if (it == skills_->position.end()) continue;
    candidate(it->second).cosine = h.score;
    dense_order.push_back(it->second);
  }
  for (const Bm25Hit& h : sparse) {
    const auto it = skills_->position.find(h.skill_id);
    // A skill imported after the snapshot was taken is not in it; the next request sees it.
    if (it == skills_->position.end() || !allowed[it->second]) continue;
    candidate(it->second).bm25 = h.score;
    sparse_order.push_back(it->second);
  }
  if (o.mode == RetrievalMode::kHybrid) {
    if (o.fusion == Fusion::kRrf) {
      for (auto& c : out) c.fused = 0.0;
      auto add_ranks = [&](const std::vector<std::size_t>& order) {
        for (std::size_t rank = 0; rank < order.size(); ++rank) {
          *out[slot[order[rank]]].fused += 1.0 / (o.rrf_k + double(rank + 1));
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
    return a.score != b.score ? a.score > b.score : a.skill < b.skill;
  });
  if (out.size() > o.candidates) out.resize(o.candidates);
  return out;
}

std::vector<MatchResult> Matcher::match(const Workspace& ws, const std::string& text,
                                        const SearchOptions& o) const {
  return match_batch(ws, {text}, o)[0];
}

std::vector<std::vector<MatchResult>> Matcher::match_batch(const Workspace& ws,
                                                           const std::vector<std::string>& texts,
                                                           const SearchOptions& o) const {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      validate_utf8(texts[i]);
    } catch (const Error& e) {
      rethrow_with_context(e, "text " + std::to_string(i + 1));
    }
  }
  SM_CHECK(o.candidates > 0, ErrorKind::kInvalidArgument, "candidates must be at least 1");
  const bool dense = o.mode != RetrievalMode::kBm25;
  const bool sparse = o.mode != RetrievalMode::kDense;
  // Retrieved per retriever: what is kept, or the fusion's depth when both are rank-fused
  // (weighted fusion normalises by the lists' score ranges, which deeper lists would move).
  const std::size_t depth = o.mode == RetrievalMode::kHybrid && o.fusion == Fusion::kRrf
                                ? std::max(o.candidates, o.fusion_depth)
                                : o.candidates;
  SM_CHECK(!dense || encoder_, ErrorKind::kInvalidArgument,
           "dense and hybrid retrieval need an embedding model (--embedder)");

  // The skills this request may return, by position in the snapshot.
  const std::size_t n = skills_->skills.size();
  std::vector<char> allowed(n, 1);
  if (has_filter(o.filter)) {
    std::fill(allowed.begin(), allowed.end(), 0);
    for (const std::int64_t id : ws.skill_ids(o.filter)) {
      auto it = skills_->position.find(id);
      if (it != skills_->position.end()) allowed[it->second] = 1;
    }
  }

  std::vector<std::vector<DenseHit>> dense_hits(texts.size());
  if (dense) {
    // The rows of the dense index that may be returned; every skill that may be returned must
    // have one.
    std::vector<char> rows(dense_->size(), 0);
    std::size_t covered = 0, wanted = 0;
    for (std::size_t p = 0; p < n; ++p) {
      if (!allowed[p]) continue;
      ++wanted;
      if (auto r = dense_->row_of(skills_->skills[p].id)) rows[*r] = 1, ++covered;
    }
    SM_CHECK(covered == wanted, ErrorKind::kInvalidArgument,
             std::to_string(wanted - covered) + " of the " + std::to_string(wanted) +
                 " skills this request can return have no vector; run `skillmatch index` to "
                 "embed them");
    DenseSearchOptions ds;
    ds.approximate = o.ann;
    ds.ef_search = o.ef_search;
    const bool all = covered == dense_->size();
    dense_hits = dense_->search(embed(encoder_->tokenize(texts, query_prompt_)), depth,
                                all ? nullptr : &rows, ds);
  }
  std::vector<std::vector<Candidate>> cands(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<Bm25Hit> bm25 =
        sparse ? ws.bm25(texts[i], depth, o.filter, o.bm25_weights) : std::vector<Bm25Hit>{};
    cands[i] = fuse(dense_hits[i], bm25, o, allowed);
  }
  // Rerank all pairs of all texts in one batched call.
  const bool rerank = o.rerank && reranker_;
  std::vector<float> logits;
  if (rerank) {
    std::vector<TextPair> pairs;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      for (const auto& c : cands[i]) {
        pairs.push_back({texts[i], format_skill(o.rerank_template, skills_->skills[c.skill])});
      }
    }
    logits = score(reranker_->tokenize(pairs, o.pair));
  }
  std::vector<std::vector<MatchResult>> out(texts.size());
  std::size_t next_logit = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::vector<MatchResult>& res = out[i];
    for (const auto& c : cands[i]) {
      MatchResult r;
      r.skill = skills_->skills[c.skill];
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
    if (o.explain) explain(texts[i], res);
  }
  return out;
}

}  // namespace skillmatch
