#include "model/encoder.h"

#include <cmath>
#include <utility>

#include "model/kernels.h"
#include "skillmatch/core/error.h"

namespace skillmatch {

PaddedBatch pad_batch(const std::vector<TokenIds>& seqs, const std::vector<std::size_t>& order,
                      std::int64_t pad_id) {
  std::size_t max_len = 0;
  for (std::size_t i : order) max_len = std::max(max_len, seqs[i].size());
  const auto b = static_cast<std::int64_t>(order.size());
  const auto l = static_cast<std::int64_t>(max_len);
  PaddedBatch out{at::full({b, l}, pad_id, at::kLong), at::zeros({b, l}, at::kLong)};
  auto* ids = out.ids.data_ptr<std::int64_t>();
  auto* mask = out.mask.data_ptr<std::int64_t>();
  for (std::size_t r = 0; r < order.size(); ++r) {
    const TokenIds& s = seqs[order[r]];
    for (std::size_t c = 0; c < s.size(); ++c) {
      ids[r * max_len + c] = s[c];
      mask[r * max_len + c] = 1;
    }
  }
  return out;
}

XlmrEncoder::XlmrEncoder(const ModelConfig& config, const WeightSource& w, at::ScalarType dtype,
                         LinearKind linear, const WeightCache* cache, WeightCacheWriter* writer)
    : config_(config), dtype_(dtype) {
  const std::int64_t h = config.hidden_size, f = config.intermediate_size;
  // The word-embedding table (most of a base model's bytes, few of its rows used by any input):
  // in place in the weight file when it is stored in the compute type, else from the cache.
  const std::string word = "embeddings.word_embeddings.weight";
  word_ = w.map(word, {config.vocab_size, h}, dtype);
  if (!word_.defined() && cache) {
    word_ = cache->tensor("word_embeddings", {config.vocab_size, h}, dtype);
  } else if (!word_.defined()) {
    word_ = w.get(word, {config.vocab_size, h}, dtype);
    if (writer) writer->add("word_embeddings", word_);
  }
  position_ =
      w.get("embeddings.position_embeddings.weight", {config.max_position_embeddings, h}, dtype);
  token_type0_ =
      w.get("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h}, dtype)[0]
          .clone();
  emb_ln_ = load_norm(w, "embeddings.LayerNorm");
  // The linear layers are read in float32 and packed for their kind (see linear.h), or taken
  // packed from the cache. `read` returns the weight and the bias (weight first, in a statement of
  // its own: a shape error names the weight matrix).
  auto linear_layer = [&](const std::string& name, std::int64_t out, std::int64_t in, bool gelu,
                          const auto& read) {
    if (cache) return PackedLinear::load(*cache, name, out, in, linear, gelu);
    const auto [weight, bias] = read();
    PackedLinear l(weight, bias, linear, gelu);
    if (writer) l.save(*writer, name);
    return l;
  };
  auto dense = [&](const std::string& name, std::int64_t out, std::int64_t in, bool gelu) {
    return linear_layer(name, out, in, gelu, [&] {
      at::Tensor weight = w.get(name + ".weight", {out, in}, at::kFloat);
      at::Tensor bias = w.get(name + ".bias", {out}, at::kFloat);
      return std::make_pair(std::move(weight), std::move(bias));
    });
  };
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    // Query, key and value fused into one [3H, H] product.
    auto attention = [&](const char* kind, std::vector<std::int64_t> shape) {
      std::vector<at::Tensor> parts;
      for (const char* name : {"query", "key", "value"}) {
        parts.push_back(w.get(p + "attention.self." + name + "." + kind, shape, at::kFloat));
      }
      return at::cat(parts);
    };
    auto qkv = [&] {
      return linear_layer(p + "attention.self.qkv", 3 * h, h, false, [&] {
        at::Tensor weight = attention("weight", {h, h});
        at::Tensor bias = attention("bias", {h});
        return std::make_pair(std::move(weight), std::move(bias));
      });
    };
    layers_.push_back(Layer{
        qkv(),
        dense(p + "attention.output.dense", h, h, false),
        load_norm(w, p + "attention.output.LayerNorm"),
        dense(p + "intermediate.dense", f, h, true),
        dense(p + "output.dense", h, f, false),
        load_norm(w, p + "output.LayerNorm"),
    });
  }
}

XlmrEncoder::Norm XlmrEncoder::load_norm(const WeightSource& w, const std::string& name) const {
  const std::int64_t h = config_.hidden_size;
  Norm n;
  n.w = w.get(name + ".weight", {h}, dtype_);
  n.b = w.get(name + ".bias", {h}, dtype_);
  n.w32 = w.get(name + ".weight", {h}, at::kFloat);
  n.b32 = w.get(name + ".bias", {h}, at::kFloat);
  return n;
}

at::Tensor XlmrEncoder::add_norm(const at::Tensor& a, const at::Tensor& b, const Norm& n) const {
  if (dtype_ == at::kBFloat16) {
    return add_layer_norm_bf16(a, b, n.w32, n.b32, config_.layer_norm_eps);
  }
  return at::layer_norm(a + b, {config_.hidden_size}, n.w, n.b, config_.layer_norm_eps);
}

at::Tensor XlmrEncoder::forward(const PaddedBatch& batch) const {
  const std::int64_t b = batch.ids.size(0), len = batch.ids.size(1);
  const std::int64_t h = config_.hidden_size, heads = config_.num_attention_heads;
  const std::int64_t d = h / heads;
  SM_CHECK(len <= config_.max_tokens(), ErrorKind::kInvalidArgument,
           "a sequence of " + std::to_string(len) + " tokens exceeds the model's limit of " +
               std::to_string(config_.max_tokens()));
  SM_CHECK(batch.ids.max().item<std::int64_t>() < config_.vocab_size &&
               batch.ids.min().item<std::int64_t>() >= 0,
           ErrorKind::kInvalidArgument, "a token id is outside the model's vocabulary");

  // RoBERTa position ids: padding_idx + 1, + 2, ... for real tokens, padding_idx for padding.
  at::Tensor positions = at::cumsum(batch.mask, 1).mul_(batch.mask).add_(config_.pad_token_id);

  // No work on padding: everything but attention is per token, so the rows of padding are left
  // out ("packed" [T, C] tensors of the T real tokens) and put back, as zeros, only around the
  // attention products, which need the [B, L] shape. A batch of one length needs neither.
  const std::int64_t tokens = batch.mask.sum().item<std::int64_t>();
  const bool padded = tokens < b * len;
  const at::Tensor real = padded ? batch.mask.reshape({-1}).nonzero().squeeze(1) : at::Tensor();
  auto pack = [&](const at::Tensor& t) { return padded ? t.index_select(0, real) : t; };
  auto unpack = [&](const at::Tensor& t) {  // [T, C] -> [B*L, C]
    return padded ? at::zeros({b * len, t.size(1)}, t.options()).index_copy_(0, real, t) : t;
  };
  at::Tensor x =
      add_norm(word_.index_select(0, pack(batch.ids.reshape({-1}))),
               position_.index_select(0, pack(positions.reshape({-1}))).add_(token_type0_),
               emb_ln_);  // [T, H]

  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  constexpr std::int64_t kAttentionSliceBytes = 16 << 20;
  const std::int64_t per_sequence =
      heads * len * len * static_cast<std::int64_t>(at::elementSize(dtype_));
  const std::int64_t slice = std::max<std::int64_t>(1, kAttentionSliceBytes / per_sequence);

  for (const Layer& l : layers_) {
    at::Tensor qkv = unpack(l.qkv.forward(x)).view({b, len, 3, heads, d});
    at::Tensor q = qkv.select(2, 0).transpose(1, 2);  // [B, heads, L, D]
    at::Tensor k = qkv.select(2, 1).transpose(1, 2);
    at::Tensor v = qkv.select(2, 2).transpose(1, 2);
    // Attention in slices of the batch (one slice when it is small): the score matrix of a whole
    // batch of long sequences is hundreds of MiB (32 x 12 heads x 512^2 floats), which glibc maps
    // and unmaps on every layer; slices of at most kAttentionSliceBytes stay in the heap and in
    // cache.
    at::Tensor ctx = at::empty({b, len, heads, d}, x.options());
    for (std::int64_t s0 = 0; s0 < b; s0 += slice) {
      const std::int64_t n = std::min(slice, b - s0);
      at::Tensor scores = batched_matmul(q.narrow(0, s0, n), k.narrow(0, s0, n).transpose(-1, -2));
      scaled_masked_softmax_(scores, scale, padded ? batch.mask.narrow(0, s0, n) : at::Tensor());
      ctx.narrow(0, s0, n).copy_(batched_matmul(scores, v.narrow(0, s0, n)).transpose(1, 2));
    }
    ctx = ctx.view({b * len, h});
    at::Tensor a = add_norm(l.out.forward(pack(ctx)), x, l.ln1);
    // int8: the FFN's 3,072-wide GELU output goes on quantised, never written as activations.
    at::Tensor ffn = l.ffn_in.kind() == LinearKind::kInt8
                         ? l.ffn_out.forward(l.ffn_in.forward_quantized(a), dtype_)
                         : l.ffn_out.forward(l.ffn_in.forward(a));
    x = add_norm(ffn, a, l.ln2);
  }
  return unpack(x).view({b, len, h});
}

}  // namespace skillmatch
