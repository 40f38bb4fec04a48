// The matcher: course text -> ranked skills. Retrieve (dense cosine, BM25, or both fused),
// rerank the candidates with a cross-encoder, cut off by score, gap or count.
//
// The bi-encoder sees the model's "query" prompt + the course text (as the model cards do); the
// cross-encoder sees the plain course text and the skill formatted by `rerank_template`
// (default: the label, as the reranker's model card and WISY@KI do).
//
// Thread-safety: a Matcher reads its Workspace, so use it from one thread at a time.
// Errors: kInvalidArgument for invalid UTF-8 or options that need a model that is missing;
// kNotFound/kInvalidArgument at construction when the vectors do not cover the workspace.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "skillmatch/catalog/workspace.h"
#include "skillmatch/core/matrix.h"
#include "skillmatch/index/ann_index.h"
#include "skillmatch/index/vector_store.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"

namespace skillmatch {

enum class RetrievalMode { kDense, kBm25, kHybrid };
enum class Fusion { kRrf, kWeighted };

struct MatchOptions {
  RetrievalMode mode = RetrievalMode::kHybrid;
  // Hybrid: reciprocal rank fusion (sum of 1 / (rrf_k + rank)) or a weighted sum of min-max
  // normalised scores (dense_weight * cosine + (1 - dense_weight) * bm25).
  Fusion fusion = Fusion::kRrf;
  double rrf_k = 60;
  double dense_weight = 0.5;
  Bm25Weights bm25_weights;     // label, alternative labels, description; 0 leaves a field out
  std::size_t candidates = 30;  // retrieved (per retriever) and reranked
  // Dense retrieval through the approximate index (see use_ann) instead of the exact scan;
  // `ef_search` is HNSW's candidate list (higher: better recall, slower). A filter that leaves
  // at most a tenth of the skills is searched exactly.
  bool ann = false;
  int ef_search = 128;
  bool rerank = true;  // when a reranker is given
  std::string rerank_template = "{label}";
  std::size_t rerank_max_length = 0;  // 0: the reranker's default (512)
  // Cut-offs, applied in this order to the final score (the reranker's sigmoid when reranked,
  // else the retrieval score): a minimum score, the largest gap between consecutive scores, a
  // maximum count.
  std::optional<double> threshold;
  bool cut_at_largest_gap = false;
  std::size_t top = 10;
  SkillFilter filter;
};

struct MatchResult {
  std::size_t rank = 0;  // 1-based
  Skill skill;
  std::optional<float> cosine;
  std::optional<double> bm25;
  std::optional<double> fused;
  std::optional<float> rerank_logit;
  std::optional<float> rerank_sigmoid;
  double score = 0;  // what the list is ordered by
};

class Matcher {
 public:
  // `encoder` with `vectors` enables dense retrieval, `reranker` reranking; both may be null
  // (BM25 only). All pointers must outlive the Matcher. Throws when the vectors do not cover
  // every skill of the workspace (an unfinished index).
  Matcher(const Workspace& ws, const BiEncoder* encoder, const VectorStore* vectors,
          const CrossEncoder* reranker);

  std::vector<MatchResult> match(const std::string& text, const MatchOptions& options) const;
  // Many texts at once: queries are embedded and pairs reranked in shared batches.
  std::vector<std::vector<MatchResult>> match_batch(const std::vector<std::string>& texts,
                                                    const MatchOptions& options) const;

  // The approximate index over this matcher's vectors (built by build_ann); must outlive the
  // Matcher. Throws kInvalidArgument when it was built for other vectors (a stale index).
  void use_ann(const AnnIndex* ann);
  AnnIndex build_ann(const AnnOptions& options = {}) const;
  // Identifies the dense rows: skill ids and vector bytes.
  std::uint64_t vectors_fingerprint() const;

  bool has_dense() const noexcept { return encoder_ != nullptr; }
  bool has_reranker() const noexcept { return reranker_ != nullptr; }

 private:
  struct Candidate {
    std::size_t row = 0;  // index into skills_
    std::optional<float> cosine;
    std::optional<double> bm25;
    std::optional<double> fused;
    double score = 0;
  };
  std::vector<Candidate> retrieve(const std::string& text, const float* query,
                                  const MatchOptions& options,
                                  const std::vector<char>& allowed) const;
  std::vector<char> allowed_rows(const SkillFilter& filter) const;

  const Workspace& ws_;
  const BiEncoder* encoder_;
  const CrossEncoder* reranker_;
  const AnnIndex* ann_ = nullptr;
  std::vector<Skill> skills_;
  std::unordered_map<std::int64_t, std::size_t> row_of_;
  Matrix vectors_;  // row i: vector of skills_[i] (dense only)
  std::string query_prompt_;
};

}  // namespace skillmatch
