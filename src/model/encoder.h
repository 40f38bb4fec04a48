// The XLM-RoBERTa encoder (embeddings + post-LayerNorm transformer layers) on libtorch.
// Private to the model layer: public headers never expose libtorch.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "model/linear.h"
#include "model/weight_cache.h"
#include "model/weights.h"
#include "skillmatch/model/model_config.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

// A batch of token sequences padded on the right with the pad id.
struct PaddedBatch {
  at::Tensor ids;   // [B, L] int64
  at::Tensor mask;  // [B, L] int64, 1 for real tokens
};

// Pads `seqs[i]` for i in `order` into one batch whose length is the longest of them.
PaddedBatch pad_batch(const std::vector<TokenIds>& seqs, const std::vector<std::size_t>& order,
                      std::int64_t pad_id);

class XlmrEncoder {
 public:
  // Loads and checks every tensor of the encoder (names relative to the detected prefix).
  // `dtype` is the type of the activations (float32 or bfloat16); `linear` the number type of the
  // linear layers' products (kFloat32 with float32 activations, kBFloat16 with bfloat16, kInt8
  // with either). Throws kUnsupported when the CPU cannot multiply that type.
  // With `cache`, the word embeddings and the packed linear layers are taken from it (mapped, not
  // read from `weights`); with `writer`, they are handed to it for a new cache file.
  XlmrEncoder(const ModelConfig& config, const WeightSource& weights, at::ScalarType dtype,
              LinearKind linear, const WeightCache* cache = nullptr,
              WeightCacheWriter* writer = nullptr);

  // Hidden states of the last layer, [B, L, H] in the compute dtype; rows of padding are zero
  // (they are not computed). Thread-safe (weights are read-only); call under c10::InferenceMode.
  at::Tensor forward(const PaddedBatch& batch) const;

  at::ScalarType dtype() const noexcept { return dtype_; }
  const ModelConfig& config() const noexcept { return config_; }

 private:
  // LayerNorm parameters, kept in float32 too for the fused bfloat16 kernel.
  struct Norm {
    at::Tensor w, b, w32, b32;
  };
  struct Layer {
    PackedLinear qkv;  // H -> 3H: query, key, value fused
    PackedLinear out;  // H -> H
    Norm ln1;
    PackedLinear ffn_in;   // H -> F, with GELU
    PackedLinear ffn_out;  // F -> H
    Norm ln2;
  };
  Norm load_norm(const WeightSource& w, const std::string& name) const;
  // LayerNorm(a + b): libtorch in float32, the fused kernel in bfloat16.
  at::Tensor add_norm(const at::Tensor& a, const at::Tensor& b, const Norm& n) const;

  ModelConfig config_;
  at::ScalarType dtype_;
  at::Tensor word_, position_, token_type0_;
  Norm emb_ln_;
  std::vector<Layer> layers_;
};

}  // namespace skillmatch
