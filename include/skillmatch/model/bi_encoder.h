// A sentence-transformers bi-encoder (e.g. multilingual-e5-base): text -> one unit vector.
//
// Loads the folder a user downloaded from the Hugging Face Hub, reading what sentence-transformers
// reads: modules.json (Transformer, Pooling, Normalize), sentence_bert_config.json
// (max_seq_length), 1_Pooling/config.json (cls, mean, max, mean_sqrt_len, weightedmean, lasttoken,
// include_prompt), config_sentence_transformers.json (named prompts such as "query: ").
//
// Thread-safety: a loaded BiEncoder is immutable; embed() may be called from several threads.
// Each call uses libtorch's intra-op pool (all cores by default, see runtime.h). Copies share the
// weights.
// Errors: load() throws kNotFound / kCorrupt / kUnsupported naming the file and the reason;
// embed() throws kInvalidArgument for invalid UTF-8 (naming the input index).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "skillmatch/core/matrix.h"
#include "skillmatch/model/inference.h"
#include "skillmatch/model/model_folder.h"
#include "skillmatch/model/runtime.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

// Called after each batch with the number of texts done so far and the total.
using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

class BiEncoder {
 public:
  static BiEncoder load(const std::filesystem::path& dir, const InferenceOptions& options = {});
  // Throws kInvalidArgument for a cross-encoder folder (naming what it is).
  static BiEncoder load(const ModelFolder& folder, const InferenceOptions& options = {});

  // Ids of `prompt + text` for each text, truncated to max_seq_length() as sentence-transformers
  // does. `prompt` is the literal prompt text ("query: "), empty for none.
  std::vector<TokenIds> tokenize(const std::vector<std::string>& texts,
                                 const std::string& prompt = "") const;

  // Embeddings of already tokenized inputs: [inputs.size(), dimension()] in input order, float32.
  // `prompt_length` is the number of leading ids (after <s>) that belong to the prompt; it only
  // matters for a pooling with include_prompt = false. Use prompt_token_count(prompt).
  // `normalize` false skips the model's Normalize module (TEI's normalize=false).
  Matrix embed_tokens(const std::vector<TokenIds>& inputs, std::size_t prompt_length = 0,
                      const ProgressFn& progress = nullptr, bool normalize = true) const;

  // tokenize() then embed_tokens(): the equivalent of SentenceTransformer.encode(texts,
  // prompt=prompt).
  Matrix embed(const std::vector<std::string>& texts, const std::string& prompt = "",
               const ProgressFn& progress = nullptr) const;

  // The prompt text of a named prompt ("query" -> "query: "), if the model defines it.
  std::optional<std::string> prompt(const std::string& name) const;
  const std::map<std::string, std::string>& prompts() const;
  // config_sentence_transformers.json's default_prompt_name, empty if none.
  const std::string& default_prompt_name() const;

  // What sentence-transformers counts as the prompt's length: ids of the prompt alone minus one.
  std::size_t prompt_token_count(const std::string& prompt) const;

  std::size_t dimension() const;
  std::size_t max_seq_length() const;
  // "cls", "mean", ... ("cls+mean" when several modes are concatenated).
  std::string pooling() const;
  bool normalizes() const;
  DType dtype() const;  // the resolved compute type
  const Tokenizer& tokenizer() const;
  const std::filesystem::path& directory() const;

  struct Impl;

 private:
  explicit BiEncoder(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace skillmatch
