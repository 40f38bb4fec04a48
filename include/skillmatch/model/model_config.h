// `config.json` of a Hugging Face XLM-RoBERTa model, parsed and validated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace skillmatch {

struct ModelConfig {
  std::string model_type;                  // "xlm-roberta" or "roberta"
  std::vector<std::string> architectures;  // e.g. {"XLMRobertaForSequenceClassification"}
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t max_position_embeddings = 514;
  std::int64_t type_vocab_size = 1;
  std::int64_t pad_token_id = 1;
  std::int64_t num_labels = 1;  // from num_labels or the size of id2label
  double layer_norm_eps = 1e-5;
  std::string hidden_act = "gelu";
  std::string position_embedding_type = "absolute";

  // Reads DIR/config.json (or the file itself). Throws kNotFound if missing, kCorrupt naming the
  // key for a missing or mistyped required key, kUnsupported for a model skillmatch cannot run.
  static ModelConfig load(const std::filesystem::path& path);
  static ModelConfig parse(const std::string& json_text, const std::string& what);

  // Checks relations between fields (hidden size divisible by heads, positive sizes, supported
  // activation and position embedding type); throws naming the field.
  void validate(const std::string& what) const;

  // Largest number of tokens (specials included) the position table allows: positions start at
  // pad_token_id + 1, so max_position_embeddings - pad_token_id - 1 (512 for XLM-R).
  std::int64_t max_tokens() const { return max_position_embeddings - pad_token_id - 1; }
};

}  // namespace skillmatch
