#include "train/xlmr_module.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

struct Builder {
  const WeightSource* weights;
  at::Generator gen;
  double init_range;
  std::vector<TrainParam>& out;

  // A weight read from the file, or drawn from normal(0, init_range).
  std::size_t normal(const std::string& name, const std::vector<std::int64_t>& shape,
                     const WeightSource* source, bool decay = true) {
    at::Tensor t = source ? source->get(name, shape, at::kFloat)
                          : at::empty(shape, at::kFloat).normal_(0, init_range, gen);
    return add(name, std::move(t), decay);
  }
  std::size_t constant(const std::string& name, const std::vector<std::int64_t>& shape,
                       double value, const WeightSource* source, bool decay) {
    at::Tensor t =
        source ? source->get(name, shape, at::kFloat) : at::full(shape, value, at::kFloat);
    return add(name, std::move(t), decay);
  }
  std::size_t add(const std::string& name, at::Tensor t, bool decay) {
    out.push_back({name, t.contiguous().set_requires_grad(true), decay});
    return out.size() - 1;
  }
};

}  // namespace

std::vector<std::string> xlmr_tensor_names(const ModelConfig& c) {
  std::vector<std::string> n = {"embeddings.word_embeddings.weight",
                                "embeddings.position_embeddings.weight",
                                "embeddings.token_type_embeddings.weight",
                                "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* s :
         {"attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
          "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
          "attention.output.dense.weight", "attention.output.dense.bias",
          "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
          "intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight",
          "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"}) {
      n.push_back(p + s);
    }
  }
  return n;
}

TrainableXlmr::TrainableXlmr(const ModelConfig& config, const WeightSource* weights,
                             double init_range, std::uint64_t seed, bool classifier, bool pooler)
    : config_(config), classifier_(classifier) {
  const std::int64_t h = config.hidden_size, f = config.intermediate_size;
  Builder b{weights, at::make_generator<at::CPUGeneratorImpl>(seed), init_range, params_};
  word_ = b.normal("embeddings.word_embeddings.weight", {config.vocab_size, h}, weights);
  position_ = b.normal("embeddings.position_embeddings.weight", {config.max_position_embeddings, h},
                       weights);
  token_type_ =
      b.normal("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}, weights);
  if (!weights) {
    // nn.Embedding(padding_idx=pad) rows start at 0 (word and position tables).
    at::NoGradGuard no_grad;
    p(word_)[config.pad_token_id].zero_();
    p(position_)[config.pad_token_id].zero_();
  }
  emb_ln_w_ = b.constant("embeddings.LayerNorm.weight", {h}, 1.0, weights, false);
  emb_ln_b_ = b.constant("embeddings.LayerNorm.bias", {h}, 0.0, weights, false);
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string pre = "encoder.layer." + std::to_string(i) + ".";
    Layer l{};
    auto linear = [&](const std::string& name, std::int64_t out, std::int64_t in, std::size_t& w,
                      std::size_t& bias) {
      w = b.normal(pre + name + ".weight", {out, in}, weights);
      bias = b.constant(pre + name + ".bias", {out}, 0.0, weights, false);
    };
    auto norm = [&](const std::string& name, std::size_t& w, std::size_t& bias) {
      w = b.constant(pre + name + ".weight", {h}, 1.0, weights, false);
      bias = b.constant(pre + name + ".bias", {h}, 0.0, weights, false);
    };
    linear("attention.self.query", h, h, l.q_w, l.q_b);
    linear("attention.self.key", h, h, l.k_w, l.k_b);
    linear("attention.self.value", h, h, l.v_w, l.v_b);
    linear("attention.output.dense", h, h, l.o_w, l.o_b);
    norm("attention.output.LayerNorm", l.ln1_w, l.ln1_b);
    linear("intermediate.dense", f, h, l.i_w, l.i_b);
    linear("output.dense", h, f, l.f_w, l.f_b);
    norm("output.LayerNorm", l.ln2_w, l.ln2_b);
    layers_.push_back(l);
  }
  if (classifier) {
    // The head sits outside the encoder's prefix ("classifier.*", not "roberta.classifier.*").
    const WeightSource head = weights ? weights->unprefixed() : WeightSource();
    const WeightSource* src = weights && head.has("classifier.dense.weight") ? &head : nullptr;
    cls_dense_w_ = b.normal("classifier.dense.weight", {h, h}, src);
    cls_dense_b_ = b.constant("classifier.dense.bias", {h}, 0.0, src, false);
    cls_out_w_ = b.normal("classifier.out_proj.weight", {1, h}, src);
    cls_out_b_ = b.constant("classifier.out_proj.bias", {1}, 0.0, src, false);
  }
  if (pooler) {
    std::vector<TrainParam> trained;
    trained.swap(params_);
    const WeightSource* src = weights && weights->has("pooler.dense.weight") ? weights : nullptr;
    b.normal("pooler.dense.weight", {h, h}, src);
    b.constant("pooler.dense.bias", {h}, 0.0, src, false);
    for (TrainParam& t : params_) t.value.set_requires_grad(false);
    frozen_.swap(params_);
    params_.swap(trained);
  }
}

at::Tensor TrainableXlmr::encode(const PaddedBatch& batch, bool train) const {
  const std::int64_t b = batch.ids.size(0), len = batch.ids.size(1);
  const std::int64_t h = config_.hidden_size, heads = config_.num_attention_heads;
  const std::int64_t d = h / heads;
  const double eps = config_.layer_norm_eps;
  SM_CHECK(len <= config_.max_tokens(), ErrorKind::kInvalidArgument,
           "a sequence of " + std::to_string(len) + " tokens exceeds the model's limit of " +
               std::to_string(config_.max_tokens()));
  const double hidden_p = train ? dropout_.hidden : 0.0;
  const double attention_p = train ? dropout_.attention : 0.0;

  // RoBERTa position ids: padding_idx + 1, + 2, ... for real tokens, padding_idx for padding.
  const at::Tensor positions =
      at::cumsum(batch.mask, 1).mul_(batch.mask).add_(config_.pad_token_id);
  at::Tensor x = at::embedding(p(word_), batch.ids, config_.pad_token_id) +
                 p(token_type_).select(0, 0) +
                 at::embedding(p(position_), positions, config_.pad_token_id);
  x = at::layer_norm(x, {h}, p(emb_ln_w_), p(emb_ln_b_), eps);
  x = at::dropout(x, hidden_p, train);

  // Additive mask [B, 1, 1, L]: 0 for tokens, float32's lowest for padding (as transformers).
  const at::Tensor bias = (1 - batch.mask)
                              .to(at::kFloat)
                              .mul_(static_cast<double>(std::numeric_limits<float>::lowest()))
                              .view({b, 1, 1, len});
  const double scale = std::sqrt(static_cast<double>(d));
  auto split = [&](const at::Tensor& t) {
    return t.view({b, len, heads, d}).permute({0, 2, 1, 3});
  };
  for (const Layer& l : layers_) {
    const at::Tensor q = split(at::linear(x, p(l.q_w), p(l.q_b)));
    const at::Tensor k = split(at::linear(x, p(l.k_w), p(l.k_b)));
    const at::Tensor v = split(at::linear(x, p(l.v_w), p(l.v_b)));
    at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / scale + bias;
    at::Tensor probs = at::dropout(at::softmax(scores, -1), attention_p, train);
    const at::Tensor ctx = at::matmul(probs, v).permute({0, 2, 1, 3}).reshape({b, len, h});
    const at::Tensor attn = at::dropout(at::linear(ctx, p(l.o_w), p(l.o_b)), hidden_p, train);
    const at::Tensor a = at::layer_norm(attn + x, {h}, p(l.ln1_w), p(l.ln1_b), eps);
    const at::Tensor inter = at::gelu(at::linear(a, p(l.i_w), p(l.i_b)));
    const at::Tensor out = at::dropout(at::linear(inter, p(l.f_w), p(l.f_b)), hidden_p, train);
    x = at::layer_norm(out + a, {h}, p(l.ln2_w), p(l.ln2_b), eps);
  }
  return x;
}

at::Tensor TrainableXlmr::classify(const at::Tensor& hidden, bool train) const {
  SM_ASSERT(classifier_);
  const double rate = train ? dropout_.classifier : 0.0;
  at::Tensor x = at::dropout(hidden.select(1, 0), rate, train);
  x = at::tanh(at::linear(x, p(cls_dense_w_), p(cls_dense_b_)));
  x = at::dropout(x, rate, train);
  return at::linear(x, p(cls_out_w_), p(cls_out_b_)).select(1, 0);
}

}  // namespace skillmatch
