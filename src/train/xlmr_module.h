// A trainable XLM-RoBERTa: the encoder of transformers' XLMRobertaModel (separate query, key and
// value projections, additive attention mask, post-LayerNorm, exact GELU, dropout) as autograd
// tensors named as Hugging Face names them, with the heads skillmatch trains (sentence pooling,
// RobertaClassificationHead). Private to src/train; the inference encoder (src/model/encoder.h)
// stays the fast path for everything else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "model/encoder.h"
#include "model/weights.h"
#include "skillmatch/model/model_config.h"

namespace skillmatch {

struct TrainParam {
  std::string name;   // without prefix: "encoder.layer.0.attention.self.query.weight"
  at::Tensor value;   // float32, requires_grad
  bool decay = true;  // AdamW weight decay (false for biases and LayerNorm weights)
};

struct DropoutRates {
  double hidden = 0, attention = 0, classifier = 0;
};

class TrainableXlmr {
 public:
  // With `weights`, every tensor is read (and checked) from it; without, initialised as
  // transformers' XLMRobertaPreTrainedModel._init_weights does: normal(0, init_range) for
  // linear and embedding weights, zero biases, LayerNorm weight 1 and bias 0, the padding rows
  // of the word and position embeddings 0, drawn from a generator seeded with `seed`.
  // `classifier`: also the classification head (classifier.dense, classifier.out_proj); read
  // when `weights` has it, else initialised. `pooler`: keep pooler.dense (not trained: it is
  // outside every loss, as in sentence-transformers) so that the saved folder has it.
  TrainableXlmr(const ModelConfig& config, const WeightSource* weights, double init_range,
                std::uint64_t seed, bool classifier, bool pooler);

  // Hidden states of the last layer [B, L, H]. `train`: dropout on.
  at::Tensor encode(const PaddedBatch& batch, bool train) const;
  // RobertaClassificationHead on <s>: [B] logits.
  at::Tensor classify(const at::Tensor& hidden, bool train) const;

  std::vector<TrainParam>& params() noexcept { return params_; }
  const std::vector<TrainParam>& params() const noexcept { return params_; }
  // Tensors saved but not trained (pooler.dense).
  const std::vector<TrainParam>& frozen() const noexcept { return frozen_; }
  const ModelConfig& config() const noexcept { return config_; }
  void set_dropout(const DropoutRates& rates) noexcept { dropout_ = rates; }
  const DropoutRates& dropout() const noexcept { return dropout_; }

 private:
  const at::Tensor& p(std::size_t index) const { return params_[index].value; }

  ModelConfig config_;
  DropoutRates dropout_;
  std::vector<TrainParam> params_;
  std::vector<TrainParam> frozen_;
  // Indices into params_.
  std::size_t word_ = 0, position_ = 0, token_type_ = 0, emb_ln_w_ = 0, emb_ln_b_ = 0;
  struct Layer {
    std::size_t q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w,
        ln2_b;
  };
  std::vector<Layer> layers_;
  std::size_t cls_dense_w_ = 0, cls_dense_b_ = 0, cls_out_w_ = 0, cls_out_b_ = 0;
  bool classifier_ = false;
};

// The tensors of an XLM-R encoder, in the order transformers lists them, without prefix.
std::vector<std::string> xlmr_tensor_names(const ModelConfig& config);

}  // namespace skillmatch
