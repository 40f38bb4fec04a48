#include "model/transformer_model.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>

#include "model/batching.h"
#include "model/torch_runtime.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

fs::path weight_cache_dir(const InferenceOptions& options) {
  std::string dir = options.weight_cache;
  if (dir.empty()) {
    if (const char* e = std::getenv("SKILLMATCH_WEIGHT_CACHE"); e && *e) dir = e;
  }
  if (dir == "off") return {};
  if (!dir.empty()) return dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return fs::path(x) / "skillmatch" / "weights";
  }
  const char* home = std::getenv("HOME");
  if (!home || !*home) return {};
  return fs::path(home) / ".cache" / "skillmatch" / "weights";
}

// The encoder, from the weight cache when it has a valid file for these weights, this number
// type and this CPU; otherwise converted from the weight file, and the cache file written.
std::unique_ptr<XlmrEncoder> load_encoder(const ModelConfig& config, const WeightSource& weights,
                                          at::ScalarType scalar, LinearKind linear,
                                          const InferenceOptions& options) {
  const fs::path dir = weight_cache_dir(options);
  const fs::path source = weights.file();
  std::error_code ec;
  const auto size = fs::file_size(source, ec);
  if (dir.empty() || ec || size < options.weight_cache_min_bytes) {
    return std::make_unique<XlmrEncoder>(config, weights, scalar, linear);
  }
  const std::string variant = packing_variant(linear) + " / activations " +
                              (scalar == at::kBFloat16 ? "bfloat16" : "float32") + " / format 1";
  std::string identity;
  try {
    identity = WeightCache::identity(source, variant);
  } catch (const Error&) {
    return std::make_unique<XlmrEncoder>(config, weights, scalar, linear);
  }
  const fs::path file = WeightCache::file_in(dir, identity);
  std::string why;
  if (auto cache = WeightCache::open(file, identity, &why)) {
    try {
      return std::make_unique<XlmrEncoder>(config, weights, scalar, linear, cache.get());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kCorrupt) throw;
      // A blob of the wrong size: convert again and replace the file below.
    }
  }
  WeightCacheWriter writer;
  auto encoder = std::make_unique<XlmrEncoder>(config, weights, scalar, linear, nullptr, &writer);
  try {
    writer.write(file, identity);
    WeightCache::remove_older(file, identity);
  } catch (const Error&) {
    // A read-only or full cache directory costs only time.
  }
  return encoder;
}

}  // namespace

std::unique_ptr<TransformerModel> TransformerModel::load(const ModelFolder& folder,
                                                         const InferenceOptions& options,
                                                         const LoadMoreFn& load_more) {
  SM_CHECK(options.batch_size > 0, ErrorKind::kInvalidArgument, "batch size must be at least 1");
  init_runtime();
  ModelConfig config = folder.config();
  Tokenizer tokenizer = folder.load_tokenizer();
  const auto tokenizer_file =
      folder.tokenizer_json_file() ? folder.tokenizer_json_file() : folder.sentencepiece_file();
  SM_CHECK(tokenizer.vocab_size() <= config.vocab_size, ErrorKind::kCorrupt,
           tokenizer_file->string() + " has " + std::to_string(tokenizer.vocab_size()) +
               " ids but config.json's vocab_size is " + std::to_string(config.vocab_size) +
               "; the tokenizer does not belong to this model");

  const DType dtype = resolve_dtype(options.dtype);
  // int8 keeps the activations between the linear layers in bfloat16 where the CPU multiplies it
  // natively (attention, LayerNorm), else in float32.
  const at::ScalarType scalar =
      dtype == DType::kBFloat16 || (dtype == DType::kInt8 && cpu_has_native_bf16()) ? at::kBFloat16
                                                                                    : at::kFloat;
  const LinearKind linear = dtype == DType::kInt8     ? LinearKind::kInt8
                            : scalar == at::kBFloat16 ? LinearKind::kBFloat16
                                                      : LinearKind::kFloat32;
  const fs::path dir = folder.sentence_transformers().transformer_dir;
  WeightSource weights = WeightSource::open(dir, "embeddings.word_embeddings.weight");
  auto encoder = load_encoder(config, weights, scalar, linear, options);
  auto model = std::unique_ptr<TransformerModel>(
      new TransformerModel{folder.dir(), folder.tokenizer_max_length(), std::move(config),
                           std::move(tokenizer), dtype, scalar, options, std::move(encoder)});
  if (load_more) load_more(*model, weights);
  return model;
}

void TransformerModel::run(const std::vector<TokenIds>& inputs, const BatchFn& consume,
                           const ProgressFn& progress) const {
  std::vector<std::size_t> lengths(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    SM_CHECK(!inputs[i].empty(), ErrorKind::kInvalidArgument,
             "input " + std::to_string(i) + " has no tokens");
    SM_CHECK(inputs[i].size() <= static_cast<std::size_t>(config.max_tokens()),
             ErrorKind::kInvalidArgument,
             "input " + std::to_string(i) + " has " + std::to_string(inputs[i].size()) +
                 " tokens; the model takes at most " + std::to_string(config.max_tokens()));
    lengths[i] = inputs[i].size();
  }
  c10::InferenceMode guard;
  std::size_t done = 0;
  for (const auto& rows : plan_batches(lengths, options.batch_size, options.max_batch_tokens)) {
    PaddedBatch batch = pad_batch(inputs, rows, config.pad_token_id);
    at::Tensor hidden = encoder->forward(batch);
    consume(rows, hidden, batch.mask);
    done += rows.size();
    if (progress) progress(done, inputs.size());
  }
}

}  // namespace skillmatch
