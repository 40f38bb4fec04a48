#include "skillmatch/model/model_config.h"

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace skillmatch {

ModelConfig ModelConfig::load(const std::filesystem::path& path) {
  std::filesystem::path file = std::filesystem::is_directory(path) ? path / "config.json" : path;
  require_file(file, "model config");
  return parse(read_file(file), file.string());
}

ModelConfig ModelConfig::parse(const std::string& json_text, const std::string& what) {
  nlohmann::json j;
  try {
    j = parse_json(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kCorrupt, what + ": invalid JSON: " + json_error_message(e));
  }
  SM_CHECK(j.is_object(), ErrorKind::kCorrupt, what + ": not a JSON object");
  ModelConfig c;
  get_key(j, "model_type", c.model_type, true, what);
  get_key(j, "architectures", c.architectures, false, what);
  get_key(j, "vocab_size", c.vocab_size, true, what);
  get_key(j, "hidden_size", c.hidden_size, true, what);
  get_key(j, "num_hidden_layers", c.num_hidden_layers, true, what);
  get_key(j, "num_attention_heads", c.num_attention_heads, true, what);
  get_key(j, "intermediate_size", c.intermediate_size, true, what);
  get_key(j, "max_position_embeddings", c.max_position_embeddings, true, what);
  get_key(j, "type_vocab_size", c.type_vocab_size, false, what);
  get_key(j, "pad_token_id", c.pad_token_id, false, what);
  get_key(j, "layer_norm_eps", c.layer_norm_eps, false, what);
  get_key(j, "hidden_act", c.hidden_act, false, what);
  get_key(j, "position_embedding_type", c.position_embedding_type, false, what);
  if (!get_key(j, "num_labels", c.num_labels, false, what)) {
    auto it = j.find("id2label");
    if (it != j.end() && it->is_object() && !it->empty()) {
      c.num_labels = static_cast<std::int64_t>(it->size());
    }
  }
  c.validate(what);
  return c;
}

void ModelConfig::validate(const std::string& what) const {
  SM_CHECK(model_type == "xlm-roberta" || model_type == "roberta", ErrorKind::kUnsupported,
           what + ": model_type '" + model_type +
               "' is not supported (skillmatch runs xlm-roberta and roberta encoders)");
  auto positive = [&](std::int64_t v, const char* key) {
    SM_CHECK(v > 0, ErrorKind::kCorrupt,
             what + ": " + key + " must be positive, got " + std::to_string(v));
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  // 0 layers is a static-embedding model: embeddings, their LayerNorm, pooling.
  SM_CHECK(num_hidden_layers >= 0, ErrorKind::kCorrupt,
           what + ": num_hidden_layers must be >= 0, got " + std::to_string(num_hidden_layers));
  positive(num_attention_heads, "num_attention_heads");
  positive(intermediate_size, "intermediate_size");
  positive(type_vocab_size, "type_vocab_size");
  positive(num_labels, "num_labels");
  SM_CHECK(hidden_size % num_attention_heads == 0, ErrorKind::kCorrupt,
           what + ": hidden_size " + std::to_string(hidden_size) +
               " is not divisible by num_attention_heads " + std::to_string(num_attention_heads));
  SM_CHECK(pad_token_id >= 0 && pad_token_id < vocab_size, ErrorKind::kCorrupt,
           what + ": pad_token_id " + std::to_string(pad_token_id) + " is outside the vocabulary");
  positive(max_position_embeddings, "max_position_embeddings");
  SM_CHECK(max_position_embeddings - pad_token_id > 2, ErrorKind::kCorrupt,
           what + ": max_position_embeddings " + std::to_string(max_position_embeddings) +
               " leaves no room for tokens after the padding offset");
  SM_CHECK(layer_norm_eps > 0, ErrorKind::kCorrupt, what + ": layer_norm_eps must be positive");
  SM_CHECK(hidden_act == "gelu", ErrorKind::kUnsupported,
           what + ": hidden_act '" + hidden_act + "' is not supported (only exact 'gelu')");
  SM_CHECK(position_embedding_type == "absolute", ErrorKind::kUnsupported,
           what + ": position_embedding_type '" + position_embedding_type +
               "' is not supported (only 'absolute')");
}

}  // namespace skillmatch
