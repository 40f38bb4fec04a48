// What the bi-encoder and the cross-encoder share: a model folder's config, tokenizer and XLM-R
// encoder, loaded and checked together, and the batched forward loop over token sequences.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "model/encoder.h"
#include "model/weights.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/inference.h"
#include "skillmatch/model/model_config.h"
#include "skillmatch/model/model_folder.h"
#include "skillmatch/model/runtime.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

struct TransformerModel {
  std::filesystem::path dir;
  std::size_t default_max_length = 512;  // ModelFolder::tokenizer_max_length()
  ModelConfig config;
  Tokenizer tokenizer;
  DType dtype = DType::kFloat32;  // resolved
  at::ScalarType scalar_type = at::kFloat;
  InferenceOptions options;
  std::unique_ptr<XlmrEncoder> encoder;

  // Loads the folder's config, tokenizer (tokenizer.json preferred) and weights, and checks that
  // they fit each other (the tokenizer's ids exist in the embedding matrix). `load_more` is given
  // the open weights after the encoder, for tensors outside it (a classification head); the weight
  // file is closed when load() returns, so a pickled checkpoint is not kept in memory.
  using LoadMoreFn = std::function<void(const TransformerModel&, const WeightSource&)>;
  static std::unique_ptr<TransformerModel> load(const ModelFolder& folder,
                                                const InferenceOptions& options,
                                                const LoadMoreFn& load_more = nullptr);

  // Called once per batch: `rows` are indices into the inputs, `hidden` is [B, L, H] in the compute
  // dtype, `mask` is [B, L] int64.
  using BatchFn = std::function<void(const std::vector<std::size_t>& rows, const at::Tensor& hidden,
                                     const at::Tensor& mask)>;

  // Runs the encoder over `inputs` in length-sorted batches (see plan_batches) under
  // InferenceMode.
  void run(const std::vector<TokenIds>& inputs, const BatchFn& consume,
           const ProgressFn& progress) const;
};

}  // namespace skillmatch
