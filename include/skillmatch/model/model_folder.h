// A Hugging Face model folder, read and written in one place: the seam between skillmatch and
// the files Python users download (and load what skillmatch trains).
//
// Reading: config.json, the weight file (model.safetensors, else pytorch_model.bin), the
// tokenizer files (tokenizer.json, sentencepiece.bpe.model, tokenizer_config.json,
// special_tokens_map.json) and, for a sentence-transformers bi-encoder, modules.json,
// 1_Pooling/config.json, sentence_bert_config.json and config_sentence_transformers.json (named
// prompts). Everything but the weights is parsed and checked by read(); the models load their
// weights through it. A folder holding only tokenizer files reads too (has_config() is false),
// for `tokenize`.
//
// Writing: write_model_folder() writes a complete folder that sentence-transformers and
// FlagEmbedding load unchanged: config.json, model.safetensors with the original tensor names,
// sentencepiece.bpe.model and tokenizer.json (each generated from the other when the source has
// only one), tokenizer_config.json, special_tokens_map.json and, for a bi-encoder, the
// sentence-transformers files. The folder is staged beside its destination and renamed into
// place: a reader sees the old folder or the complete new one, never a part.
//
// Ownership: a ModelFolder is a value (paths and parsed documents). Thread-safety: immutable
// after read(); const methods may be called from any thread.
// Errors: kNotFound (no folder, no config/tokenizer where one is needed), kCorrupt (malformed
// JSON or inconsistent values, naming file and key), kUnsupported (a module, pooling mode or
// similarity skillmatch does not run, named), kIo for writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "skillmatch/model/model_config.h"
#include "skillmatch/model/safetensors.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

// The pooling modes of sentence-transformers' Pooling module, in the order it concatenates them.
enum class PoolMode { kCls, kMax, kMean, kMeanSqrtLen, kWeightedMean, kLastToken };

// "cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken".
const char* pool_mode_name(PoolMode mode) noexcept;

struct PoolingConfig {
  std::vector<PoolMode> modes{PoolMode::kMean};  // sentence-transformers' default
  bool include_prompt = true;
};

// What sentence-transformers reads besides the transformer itself.
struct SentenceTransformersConfig {
  bool present = false;                   // the folder has modules.json
  std::filesystem::path transformer_dir;  // the Transformer module's folder (usually the root)
  PoolingConfig pooling;
  bool normalize = false;                      // a Normalize module follows pooling
  std::size_t max_seq_length = 0;              // sentence_bert_config.json; 0 when not set
  std::map<std::string, std::string> prompts;  // name -> text ("query" -> "query: ")
  std::string default_prompt_name;
  std::string similarity_fn_name;  // "" (cosine by default), "cosine" or "dot"
};

enum class ModelKind {
  kBiEncoder,     // an encoder whose pooled output is the embedding
  kCrossEncoder,  // *ForSequenceClassification: one relevance logit per pair
};

class ModelFolder {
 public:
  // Reads and checks everything but the weights.
  static ModelFolder read(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const noexcept { return dir_; }
  bool has_config() const noexcept { return config_.has_value(); }
  // Throws kNotFound naming the folder when there is no config.json.
  const ModelConfig& config() const;
  // kCrossEncoder when an architecture is a sequence classifier, else kBiEncoder.
  ModelKind kind() const;

  // The weight file (model.safetensors, else pytorch_model.bin) of the Transformer module;
  // nullopt when there is none.
  std::optional<std::filesystem::path> weights_file() const;
  std::optional<std::filesystem::path> sentencepiece_file() const;
  std::optional<std::filesystem::path> tokenizer_json_file() const;

  // The tokenizer Python users get: tokenizer.json when present, else sentencepiece.bpe.model.
  // Throws kNotFound naming both when the folder has neither.
  Tokenizer load_tokenizer() const;

  // tokenizer_config.json's model_max_length when it is a real limit (transformers stores 1e30
  // for none), capped by the position table; the position table's limit otherwise.
  std::size_t tokenizer_max_length() const;

  const SentenceTransformersConfig& sentence_transformers() const noexcept { return st_; }
  SentenceTransformersConfig& sentence_transformers() noexcept { return st_; }

  // The JSON documents as read (null where a file is absent), so that a written folder keeps
  // every key the source had.
  struct Documents {
    nlohmann::json config, tokenizer_config, special_tokens_map, modules, pooling,
        sentence_bert_config, config_sentence_transformers;
  };
  const Documents& documents() const noexcept { return docs_; }
  Documents& documents() noexcept { return docs_; }

  // Replaces config.json (its document and parsed form), e.g. when a trainer turns an encoder
  // into a sequence classifier. Throws kCorrupt/kUnsupported as read() does for a bad config.
  void set_config(const nlohmann::json& config);

 private:
  std::filesystem::path dir_;
  std::optional<ModelConfig> config_;
  SentenceTransformersConfig st_;
  Documents docs_;
};

// One tensor to write: its name as Hugging Face names it ("roberta.encoder.layer.0...") and its
// little-endian bytes (not owned; valid during the call).
struct WeightTensor {
  std::string name;
  TensorDType dtype = TensorDType::kF32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

// Writes a safetensors file (header sorted by name, data 8-byte aligned as the reference
// writer does) atomically. Throws kInvalidArgument for a tensor whose byte size does not fit its
// shape and dtype, or a repeated name.
void write_safetensors(const std::filesystem::path& file, const std::vector<WeightTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Writes `meta` (its config, tokenizer files, sentence-transformers settings; a bi-encoder gets
// Transformer + Pooling (+ Normalize) modules) with `weights` as a complete folder at `out`,
// replacing a folder that is there. The tokenizer files are copied from meta.dir(), the missing
// one of sentencepiece.bpe.model / tokenizer.json generated from the other.
void write_model_folder(const std::filesystem::path& out, const ModelFolder& meta,
                        const std::vector<WeightTensor>& weights);

// Every tensor of a safetensors file as WeightTensors pointing into `file` (which must outlive
// them), for copying weights through write_model_folder.
std::vector<WeightTensor> weight_tensors(const SafetensorsFile& file);

}  // namespace skillmatch
