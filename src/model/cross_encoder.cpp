#include "skillmatch/model/cross_encoder.h"

#include <cmath>

#include "model/transformer_model.h"
#include "skillmatch/core/error.h"

namespace fs = std::filesystem;

namespace skillmatch {

struct CrossEncoder::Impl {
  std::unique_ptr<TransformerModel> model;
  std::size_t max_length = 512;
  // RobertaClassificationHead: out_proj(tanh(dense(h_<s>))).
  at::Tensor dense_w, dense_b, out_w, out_b;
};

CrossEncoder CrossEncoder::load(const fs::path& dir, const InferenceOptions& options) {
  return load(ModelFolder::read(dir), options);
}

CrossEncoder CrossEncoder::load(const ModelFolder& folder, const InferenceOptions& options) {
  auto impl = std::make_shared<Impl>();
  Impl& m = *impl;
  impl->model = TransformerModel::load(
      folder, options, [&m](const TransformerModel& model, const WeightSource& weights) {
        const ModelConfig& config = model.config;
        const std::string what = (model.dir / "config.json").string();
        SM_CHECK(config.num_labels == 1, ErrorKind::kUnsupported,
                 what + ": the model has " + std::to_string(config.num_labels) +
                     " labels; a reranker must have exactly one (one relevance logit per pair)");
        for (const auto& arch : config.architectures) {
          SM_CHECK(arch.find("ForSequenceClassification") != std::string::npos,
                   ErrorKind::kUnsupported,
                   what + ": architecture " + arch +
                       " is not a sequence classifier (expected "
                       "XLMRobertaForSequenceClassification)");
        }
        const WeightSource head = weights.unprefixed();
        const std::int64_t h = config.hidden_size;
        const at::ScalarType st = model.scalar_type;
        if (!head.has("classifier.dense.weight")) {
          throw Error(ErrorKind::kNotFound,
                      weights.file() +
                          ": no classifier.dense.weight; is this a cross-encoder (sequence "
                          "classification) model rather than an embedding model?");
        }
        m.dense_w = head.get("classifier.dense.weight", {h, h}, st);
        m.dense_b = head.get("classifier.dense.bias", {h}, st);
        m.out_w = head.get("classifier.out_proj.weight", {1, h}, st);
        m.out_b = head.get("classifier.out_proj.bias", {1}, st);
      });
  impl->max_length = impl->model->default_max_length;
  return CrossEncoder(std::move(impl));
}

TokenIds truncate_pair(const Tokenizer& tok, TokenIds q, TokenIds p, const PairOptions& options,
                       std::size_t max_length) {
  if (options.truncation == PairTruncation::kLongestFirst && options.truncate) {
    return tok.encode_pair_ids(std::move(q), std::move(p), max_length);
  }
  SM_CHECK(options.truncate || q.size() + p.size() + 4 <= max_length, ErrorKind::kInvalidArgument,
           "`inputs` must have less than " + std::to_string(max_length) +
               " tokens. Given: " + std::to_string(q.size() + p.size() + 4));
  const std::size_t query_max =
      options.query_max_length ? options.query_max_length : max_length * 3 / 4;
  if (q.size() > query_max) q.resize(query_max);
  if (p.size() > max_length) p.resize(max_length);
  const std::size_t room = max_length - 4;  // <s> q </s></s> p </s>
  if (q.size() > room) q.resize(room);
  if (q.size() + p.size() > room) p.resize(room - q.size());
  return tok.assemble_pair(q, p);
}

std::vector<TokenIds> CrossEncoder::tokenize(const std::vector<TextPair>& pairs,
                                             const PairOptions& options) const {
  const std::size_t max_length = options.max_length ? options.max_length : impl_->max_length;
  const auto limit = static_cast<std::size_t>(impl_->model->config.max_tokens());
  SM_CHECK(max_length <= limit, ErrorKind::kInvalidArgument,
           "max length " + std::to_string(max_length) + " exceeds the model's limit of " +
               std::to_string(limit) + " tokens");
  SM_CHECK(max_length >= 4, ErrorKind::kInvalidArgument,
           "max length of a pair must be at least 4, got " + std::to_string(max_length));
  const Tokenizer& tok = impl_->model->tokenizer;
  std::vector<TokenIds> out;
  out.reserve(pairs.size());
  // A query paired with many passages (a course text and its candidates) is tokenized once.
  const std::string* last_query = nullptr;
  TokenIds query_ids;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    try {
      if (!last_query || *last_query != pairs[i].first) {
        query_ids = tok.encode_pieces(pairs[i].first);
        last_query = &pairs[i].first;
      }
      out.push_back(
          truncate_pair(tok, query_ids, tok.encode_pieces(pairs[i].second), options, max_length));
    } catch (const Error& e) {
      rethrow_with_context(e, "pair " + std::to_string(i));
    }
  }
  return out;
}

std::vector<float> CrossEncoder::score_tokens(const std::vector<TokenIds>& inputs,
                                              const ProgressFn& progress) const {
  std::vector<float> out(inputs.size());
  const Impl& m = *impl_;
  m.model->run(
      inputs,
      [&](const std::vector<std::size_t>& rows, const at::Tensor& hidden, const at::Tensor&) {
        // The head runs in the model's dtype, as in PyTorch; the logit is returned as float32.
        at::Tensor cls = hidden.select(1, 0);
        at::Tensor x = at::tanh(at::addmm(m.dense_b, cls, m.dense_w.t()));
        at::Tensor logits = at::addmm(m.out_b, x, m.out_w.t()).to(at::kFloat).contiguous();
        const float* src = logits.data_ptr<float>();
        for (std::size_t r = 0; r < rows.size(); ++r) out[rows[r]] = src[r];
      },
      progress);
  return out;
}

std::vector<float> CrossEncoder::score(const std::vector<TextPair>& pairs,
                                       const PairOptions& options,
                                       const ProgressFn& progress) const {
  return score_tokens(tokenize(pairs, options), progress);
}

const char* pair_truncation_name(PairTruncation t) noexcept {
  return t == PairTruncation::kFlagEmbedding ? "flagembedding" : "longest-first";
}

PairTruncation parse_pair_truncation(const std::string& name) {
  if (name == "flagembedding") return PairTruncation::kFlagEmbedding;
  SM_CHECK(name == "longest-first", ErrorKind::kInvalidArgument,
           "unknown pair truncation '" + name + "' (flagembedding or longest-first)");
  return PairTruncation::kLongestFirst;
}

std::size_t CrossEncoder::max_length() const {
  return impl_->max_length;
}
DType CrossEncoder::dtype() const {
  return impl_->model->dtype;
}
const Tokenizer& CrossEncoder::tokenizer() const {
  return impl_->model->tokenizer;
}
const fs::path& CrossEncoder::directory() const {
  return impl_->model->dir;
}

float sigmoid(float x) noexcept {
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

}  // namespace skillmatch
