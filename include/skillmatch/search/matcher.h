// The matcher: course text -> ranked skills. Retrieve (dense cosine, BM25, or both fused),
// rerank the candidates with a cross-encoder, cut off by score, gap or count.
//
// The bi-encoder sees the model's "query" prompt + the course text (as the model cards do); the
// cross-encoder sees the plain course text and the skill formatted by `rerank_template`
// (default: the label, as the reranker's model card and WISY@KI do).
//
// A Matcher is a light view over shared, read-only parts: a skill snapshot, the models (handles
// to immutable models) and the dense index. BM25 and filters are read through the Workspace
// connection passed to each call.
// Thread-safety: match() and match_batch() may be called from any number of threads at once,
// each with a Workspace connection of its own.
// Errors: kInvalidArgument for invalid UTF-8, options that need a model that is missing, a
// filter naming an unknown group, or a dense index that lacks skills the request can return.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "skillmatch/catalog/workspace.h"
#include "skillmatch/index/dense_index.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"

namespace skillmatch {

enum class RetrievalMode { kDense, kBm25, kHybrid };
enum class Fusion { kRrf, kWeighted };

// "dense", "bm25", "hybrid" / "rrf", "weighted".
const char* retrieval_mode_name(RetrievalMode mode) noexcept;
const char* fusion_name(Fusion fusion) noexcept;

// How one request retrieves, reranks and cuts off (the models are given to the Matcher).
struct SearchOptions {
  RetrievalMode mode = RetrievalMode::kHybrid;
  // Hybrid: reciprocal rank fusion (sum of 1 / (rrf_k + rank)) or a weighted sum of min-max
  // normalised scores (dense_weight * cosine + (1 - dense_weight) * bm25).
  Fusion fusion = Fusion::kRrf;
  double rrf_k = 60;
  double dense_weight = 0.5;
  Bm25Weights bm25_weights;     // label, alternative labels, description; 0 leaves a field out
  std::size_t candidates = 30;  // kept after retrieval (and fusion), and reranked
  // Hybrid with RRF: each retriever's ranking fused is this deep (at least `candidates`); RRF
  // gains from lists deeper than what is reranked (a skill both rank fairly high). Weighted
  // fusion takes `candidates` from each (its min-max normalisation depends on the depth).
  std::size_t fusion_depth = 100;
  // Dense retrieval through the approximate (HNSW) index instead of the exact scan;
  // `ef_search` is HNSW's candidate list (higher: better recall, slower).
  bool ann = false;
  int ef_search = 128;
  bool rerank = true;  // when a reranker is given
  std::string rerank_template = "{label}";
  PairOptions pair;  // how (course, skill) pairs are truncated for the reranker
  // Cut-offs, applied in this order to the final score (the reranker's sigmoid when reranked,
  // else the retrieval score): a minimum score, the largest gap between consecutive scores, a
  // maximum count.
  std::optional<double> threshold;
  bool cut_at_largest_gap = false;
  std::size_t top = 10;
  SkillFilter filter;
  // Give each result the span of the text that supports it best (see support.h).
  bool explain = false;
};

// The part of the course text that supports a result.
struct SupportSpan {
  std::size_t start = 0, end = 0;  // byte offsets into the text
  std::string text;
  double score = 0;    // cosine of the span's embedding and the skill's vector (or word overlap)
  std::string method;  // "embedding" or "words"
};

struct MatchResult {
  std::size_t rank = 0;  // 1-based
  Skill skill;
  std::optional<float> cosine;
  std::optional<double> bm25;
  std::optional<double> fused;
  std::optional<float> rerank_logit;
  std::optional<float> rerank_sigmoid;
  double score = 0;                    // what the list is ordered by
  std::optional<SupportSpan> support;  // with SearchOptions::explain
};

// How a Matcher runs its models: directly (the default), or through something that batches the
// work of many callers (the Engine's queue in a service). Each hook gets token ids and returns
// what BiEncoder::embed_tokens / CrossEncoder::score_tokens would.
struct ModelRunner {
  std::function<Matrix(const std::vector<TokenIds>& inputs, std::size_t prompt_length)> embed;
  std::function<std::vector<float>(const std::vector<TokenIds>& pairs)> score;
};

class Matcher {
 public:
  // `skills` is required. `encoder` with `dense` (its vectors of the skills) enables dense
  // retrieval, `reranker` reranking; either may be absent (BM25 only). Throws kInvalidArgument
  // for an encoder without vectors or vectors of another dimension.
  Matcher(std::shared_ptr<const SkillSet> skills, std::optional<BiEncoder> encoder,
          std::shared_ptr<const DenseIndex> dense, std::optional<CrossEncoder> reranker,
          ModelRunner runner = {});

  // `text` must be valid UTF-8 (checked). `ws` is the calling thread's connection to the
  // workspace the skills came from.
  std::vector<MatchResult> match(const Workspace& ws, const std::string& text,
                                 const SearchOptions& options) const;
  // Many texts at once: queries are embedded and pairs reranked in shared batches.
  std::vector<std::vector<MatchResult>> match_batch(const Workspace& ws,
                                                    const std::vector<std::string>& texts,
                                                    const SearchOptions& options) const;

  bool has_dense() const noexcept { return encoder_.has_value(); }
  bool has_reranker() const noexcept { return reranker_.has_value(); }

 private:
  struct Candidate {
    std::size_t skill = 0;  // index into skills_->skills
    std::optional<float> cosine;
    std::optional<double> bm25;
    std::optional<double> fused;
    double score = 0;
  };
  std::vector<Candidate> fuse(const std::vector<DenseHit>& dense,
                              const std::vector<Bm25Hit>& sparse, const SearchOptions& o,
                              const std::vector<char>& allowed) const;
  Matrix embed(const std::vector<TokenIds>& inputs) const;
  std::vector<float> score(const std::vector<TokenIds>& pairs) const;
  // Sets `support` of each result of `text`.
  void explain(const std::string& text, std::vector<MatchResult>& results) const;

  std::shared_ptr<const SkillSet> skills_;
  std::optional<BiEncoder> encoder_;
  std::shared_ptr<const DenseIndex> dense_;
  std::optional<CrossEncoder> reranker_;
  ModelRunner runner_;
  std::string query_prompt_;
  std::size_t query_prompt_length_ = 0;  // for poolings that leave the prompt out
};

}  // namespace skillmatch
