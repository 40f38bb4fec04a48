// A cross-encoder reranker (XLMRobertaForSequenceClassification with one label, e.g.
// bge-reranker-base): (query, passage) -> one relevance logit.
//
// Scores equal FlagEmbedding's FlagReranker.compute_score: pairs encoded `<s> q </s></s> p </s>`,
// truncated longest-first to max_length, classification head on <s> (dense, tanh, out_proj);
// sigmoid(logit) is compute_score(normalize=True).
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
#include "skillmatch/model/runtime.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

using TextPair = std::pair<std::string, std::string>;  // (query, passage)

class CrossEncoder {
 public:
  static CrossEncoder load(const std::filesystem::path& dir, const InferenceOptions& options = {});

  // Pair ids, truncated longest-first to `max_length` (0: max_length()).
  std::vector<TokenIds> tokenize(const std::vector<TextPair>& pairs,
                                 std::size_t max_length = 0) const;

  // Raw logits of already tokenized pairs, in input order.
  std::vector<float> score_tokens(const std::vector<TokenIds>& inputs,
                                  const ProgressFn& progress = nullptr) const;

  // tokenize() then score_tokens().
  std::vector<float> score(const std::vector<TextPair>& pairs, std::size_t max_length = 0,
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
