// A cross-encoder reranker (XLMRobertaForSequenceClassification with one label, e.g.
// bge-reranker-base): (query, passage) -> one relevance logit.
//
// Scores equal FlagEmbedding's FlagReranker.compute_score: pairs encoded `<s> q </s></s> p </s>`
// and truncated as PairOptions says (by default as FlagEmbedding >= 1.3 does), classification
// head on <s> (dense, tanh, out_proj); sigmoid(logit) is compute_score(normalize=True).
//
// Thread-safety: a loaded CrossEncoder is immutable; score() may be called from several threads.
// Errors: load() throws kNotFound / kCorrupt / kUnsupported naming the file; a model with more
// than one label is refused (kUnsupported). score() throws kInvalidArgument for invalid UTF-8.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/inference.h"
#include "skillmatch/model/model_folder.h"
#include "skillmatch/model/runtime.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

using TextPair = std::pair<std::string, std::string>;  // (query, passage)

// How a (query, passage) pair is cut to the model's length.
enum class PairTruncation {
  // FlagEmbedding's FlagReranker.compute_score today (inference/reranker/encoder_only/base.py):
  // query ids cut to query_max_length, passage ids to max_length (both without special tokens),
  // then the passage cut so that the pair fits max_length ("only_second"). Should the query
  // alone still not fit (max_length < 16), it is cut too.
  kFlagEmbedding,
  // transformers' "longest_first": ids removed from the longer side until both are equal, then
  // from both (sentence-transformers' CrossEncoder, FlagEmbedding before 1.3).
  kLongestFirst,
};

// "flagembedding", "longest-first".
const char* pair_truncation_name(PairTruncation t) noexcept;
PairTruncation parse_pair_truncation(const std::string& name);  // kInvalidArgument if unknown

struct PairOptions {
  PairTruncation truncation = PairTruncation::kFlagEmbedding;
  std::size_t max_length = 0;        // ids per pair, specials included; 0: the model's (512)
  std::size_t query_max_length = 0;  // kFlagEmbedding only; 0: max_length * 3 / 4
  bool truncate = true;  // false: a pair longer than max_length is refused (TEI's truncate=false)
};

// One pair's ids as CrossEncoder::tokenize builds them: `query` and `passage` are content ids
// (no specials), `max_length` (>= 4) the pair's resolved limit, `options.max_length` ignored.
// Throws kInvalidArgument for a pair that is too long when `options.truncate` is false. Pure.
TokenIds truncate_pair(const Tokenizer& tok, TokenIds query, TokenIds passage,
                       const PairOptions& options, std::size_t max_length);

class CrossEncoder {
 public:
  static CrossEncoder load(const std::filesystem::path& dir, const InferenceOptions& options = {});
  static CrossEncoder load(const ModelFolder& folder, const InferenceOptions& options = {});

  // Pair ids, truncated as `options` say. Throws kInvalidArgument for a max length above the
  // model's limit or below 4, naming the pair for invalid UTF-8.
  std::vector<TokenIds> tokenize(const std::vector<TextPair>& pairs,
                                 const PairOptions& options = {}) const;

  // Raw logits of already tokenized pairs, in input order.
  std::vector<float> score_tokens(const std::vector<TokenIds>& inputs,
                                  const ProgressFn& progress = nullptr) const;

  // tokenize() then score_tokens().
  std::vector<float> score(const std::vector<TextPair>& pairs, const PairOptions& options = {},
                           const ProgressFn& progress = nullptr) const;

  // Default max length: tokenizer_config.json's model_max_length capped by the position table
  // (512 for XLM-R), as FlagReranker uses.
  std::size_t max_length() const;
  DType dtype() const;
  const Tokenizer& tokenizer() const;
  const std::filesystem::path& directory() const;

  struct Impl;

 private:
  explicit CrossEncoder(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// 1 / (1 + exp(-x)), computed without overflow for large |x|.
float sigmoid(float x) noexcept;

}  // namespace skillmatch
