#include "skillmatch/model/bi_encoder.h"

#include <cmath>

#include "core/json_util.h"
#include "model/transformer_model.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

// The pooling modes of sentence-transformers' Pooling module, in the order it concatenates them.
enum class PoolMode { kCls, kMax, kMean, kMeanSqrtLen, kWeightedMean, kLastToken };

struct PoolingSpec {
  std::vector<PoolMode> modes;
  bool include_prompt = true;
};

constexpr std::pair<const char*, PoolMode> kModeKeys[] = {
    {"pooling_mode_cls_token", PoolMode::kCls},
    {"pooling_mode_max_tokens", PoolMode::kMax},
    {"pooling_mode_mean_tokens", PoolMode::kMean},
    {"pooling_mode_mean_sqrt_len_tokens", PoolMode::kMeanSqrtLen},
    {"pooling_mode_weightedmean_tokens", PoolMode::kWeightedMean},
    {"pooling_mode_lasttoken", PoolMode::kLastToken},
};

const char* mode_name(PoolMode m) {
  switch (m) {
    case PoolMode::kCls:
      return "cls";
    case PoolMode::kMax:
      return "max";
    case PoolMode::kMean:
      return "mean";
    case PoolMode::kMeanSqrtLen:
      return "mean_sqrt_len_tokens";
    case PoolMode::kWeightedMean:
      return "weightedmean";
    case PoolMode::kLastToken:
      return "lasttoken";
  }
  return "?";
}

PoolingSpec read_pooling(const fs::path& file, std::int64_t hidden) {
  const std::string what = file.string();
  nlohmann::json j = load_json_file(file);
  SM_CHECK(j.is_object(), ErrorKind::kCorrupt, what + ": expected a JSON object");
  PoolingSpec spec;
  std::int64_t dim = hidden;
  get_key(j, "word_embedding_dimension", dim, false, what);
  SM_CHECK(dim == hidden, ErrorKind::kCorrupt,
           what + ": word_embedding_dimension is " + std::to_string(dim) +
               " but the model's hidden size is " + std::to_string(hidden));
  get_key(j, "include_prompt", spec.include_prompt, false, what);

  for (const auto& [key, mode] : kModeKeys) {
    bool on = false;
    get_key(j, key, on, false, what);
    if (on) spec.modes.push_back(mode);
  }
  // A mode sentence-transformers may add later: refuse by name rather than ignore it.
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (key.rfind("pooling_mode", 0) != 0 || key == "pooling_mode") continue;
    bool known = false;
    for (const auto& kv : kModeKeys) known = known || key == kv.first;
    SM_CHECK(known || !item.value().is_boolean() || !item.value().get<bool>(),
             ErrorKind::kUnsupported,
             what + ": pooling mode '" + key + "' is not supported (supported: cls, max, mean, " +
                 "mean_sqrt_len_tokens, weightedmean, lasttoken)");
  }
  // The short form {"pooling_mode": "mean"} of Pooling's constructor.
  std::string short_form;
  if (get_key(j, "pooling_mode", short_form, false, what)) {
    bool found = false;
    for (const auto& kv : kModeKeys) {
      if (short_form == mode_name(kv.second) ||
          (short_form == "mean_sqrt_len" && kv.second == PoolMode::kMeanSqrtLen)) {
        spec.modes = {kv.second};
        found = true;
      }
    }
    SM_CHECK(found, ErrorKind::kUnsupported,
             what + ": pooling mode '" + short_form + "' is not supported");
  }
  SM_CHECK(!spec.modes.empty(), ErrorKind::kCorrupt, what + ": no pooling mode is enabled");
  return spec;
}

}  // namespace

struct BiEncoder::Impl {
  std::unique_ptr<TransformerModel> model;
  fs::path root;
  PoolingSpec pooling;
  bool normalize = false;
  std::size_t max_seq_length = 512;
  std::map<std::string, std::string> prompts;
  std::string default_prompt_name;

  // [B, H * modes] float32 sentence embeddings of one batch.
  at::Tensor pool(const at::Tensor& hidden, const at::Tensor& mask_in,
                  std::size_t prompt_length) const {
    at::Tensor mask = mask_in;
    if (!pooling.include_prompt && prompt_length > 0) {
      mask = mask_in.clone();
      const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(prompt_length), mask.size(1));
      mask.narrow(1, 0, n).zero_();
    }
    const at::Tensor m = mask.to(at::kFloat).unsqueeze(-1);  // [B, L, 1]
    std::vector<at::Tensor> parts;
    for (PoolMode mode : pooling.modes) {
      switch (mode) {
        case PoolMode::kCls:
          parts.push_back(hidden.select(1, 0));
          break;
        case PoolMode::kMax:
          parts.push_back(std::get<0>(hidden.masked_fill(m == 0, -1e9).max(1)));
          break;
        case PoolMode::kMean:
        case PoolMode::kMeanSqrtLen: {
          at::Tensor sum = (hidden * m).sum(1);
          at::Tensor count = m.sum(1).clamp_min(1e-9);
          parts.push_back(mode == PoolMode::kMean ? sum / count : sum / count.sqrt());
          break;
        }
        case PoolMode::kWeightedMean: {
          at::Tensor w = at::arange(1, hidden.size(1) + 1, at::kFloat).view({1, -1, 1}) * m;
          parts.push_back((hidden * w).sum(1) / w.sum(1).clamp_min(1e-9));
          break;
        }
        case PoolMode::kLastToken: {
          // Index of the last position whose mask is 1 (the last position if none is).
          const std::int64_t len = mask.size(1);
          auto [values, flipped] = mask.flip(1).max(1);
          at::Tensor idx = at::where(values == 0, at::full_like(flipped, len - 1), flipped);
          idx = (len - 1) - idx;
          at::Tensor picked =
              (hidden * m)
                  .gather(1, idx.view({-1, 1, 1}).expand({hidden.size(0), 1, hidden.size(2)}));
          parts.push_back(picked.squeeze(1));
          break;
        }
      }
    }
    at::Tensor out = parts.size() == 1 ? parts[0] : at::cat(parts, 1);
    if (normalize) {
      // torch.nn.functional.normalize: x / max(||x||, 1e-12)
      out = out / out.norm(2, 1, true).clamp_min(1e-12);
    }
    return out.contiguous();
  }
};

BiEncoder BiEncoder::load(const fs::path& dir, const InferenceOptions& options) {
  require_directory(dir, "model folder");
  auto impl = std::make_shared<Impl>();
  impl->root = dir;

  // modules.json: which modules run, in which sub-folders.
  fs::path transformer_dir = dir;
  fs::path pooling_file;
  bool has_pooling = false;
  const fs::path modules_file = dir / "modules.json";
  if (fs::exists(modules_file)) {
    const std::string what = modules_file.string();
    nlohmann::json modules = load_json_file(modules_file);
    SM_CHECK(modules.is_array(), ErrorKind::kCorrupt, what + ": expected a JSON array of modules");
    bool has_transformer = false;
    for (const auto& m : modules) {
      SM_CHECK(m.is_object(), ErrorKind::kCorrupt, what + ": a module entry is not an object");
      std::string type, path;
      get_key(m, "type", type, true, what);
      get_key(m, "path", path, false, what);
      const std::string name = type.substr(type.rfind('.') + 1);
      if (name == "Transformer") {
        SM_CHECK(!has_transformer && !has_pooling, ErrorKind::kUnsupported,
                 what + ": the Transformer module must come first and only once");
        has_transformer = true;
        transformer_dir = dir / path;
      } else if (name == "Pooling") {
        SM_CHECK(has_transformer && !has_pooling, ErrorKind::kUnsupported,
                 what + ": the Pooling module must follow the Transformer module, once");
        has_pooling = true;
        pooling_file = dir / path / "config.json";
      } else if (name == "Normalize") {
        SM_CHECK(has_pooling, ErrorKind::kUnsupported,
                 what + ": a Normalize module before pooling is not supported");
        impl->normalize = true;
      } else {
        throw Error(ErrorKind::kUnsupported,
                    what + ": module type '" + type +
                        "' is not supported (skillmatch runs Transformer, Pooling, Normalize)");
      }
    }
    SM_CHECK(has_transformer, ErrorKind::kCorrupt, what + ": no Transformer module");
  }

  impl->model = TransformerModel::load(transformer_dir, options);
  const ModelConfig& config = impl->model->config;

  if (has_pooling) {
    impl->pooling = read_pooling(pooling_file, config.hidden_size);
  } else {
    // sentence-transformers' default for a plain Hugging Face model: mean pooling.
    impl->pooling.modes = {PoolMode::kMean};
  }

  // sentence_bert_config.json: max_seq_length (else the tokenizer's limit), do_lower_case.
  impl->max_seq_length = impl->model->default_max_length();
  const fs::path sbert = transformer_dir / "sentence_bert_config.json";
  if (fs::exists(sbert)) {
    nlohmann::json j = load_json_file(sbert);
    std::int64_t max_len = 0;
    if (get_key(j, "max_seq_length", max_len, false, sbert.string())) {
      SM_CHECK(max_len >= 2, ErrorKind::kCorrupt,
               sbert.string() + ": max_seq_length must be at least 2");
      // Longer than the position table cannot run; Python would fail on the first long text.
      impl->max_seq_length = std::min<std::size_t>(static_cast<std::size_t>(max_len),
                                                   static_cast<std::size_t>(config.max_tokens()));
    }
    bool lower = false;
    get_key(j, "do_lower_case", lower, false, sbert.string());
    SM_CHECK(!lower, ErrorKind::kUnsupported,
             sbert.string() + ": do_lower_case = true is not supported");
  }

  // config_sentence_transformers.json: named prompts.
  const fs::path st_config = dir / "config_sentence_transformers.json";
  if (fs::exists(st_config)) {
    const std::string what = st_config.string();
    nlohmann::json j = load_json_file(st_config);
    get_key(j, "prompts", impl->prompts, false, what);
    get_key(j, "default_prompt_name", impl->default_prompt_name, false, what);
    SM_CHECK(impl->default_prompt_name.empty() || impl->prompts.count(impl->default_prompt_name),
             ErrorKind::kCorrupt,
             what + ": default_prompt_name '" + impl->default_prompt_name +
                 "' is not one of the prompts");
    std::string similarity = "cosine";
    get_key(j, "similarity_fn_name", similarity, false, what);
    // skillmatch ranks by cosine (dot product of normalized vectors); others would rank
    // differently.
    SM_CHECK(similarity == "cosine" || (similarity == "dot" && impl->normalize),
             ErrorKind::kUnsupported,
             what + ": similarity_fn_name '" + similarity + "' is not supported (cosine only)");
  }
  return BiEncoder(std::move(impl));
}

std::vector<TokenIds> BiEncoder::tokenize(const std::vector<std::string>& texts,
                                          const std::string& prompt) const {
  std::vector<TokenIds> out;
  out.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      out.push_back(impl_->model->tokenizer.encode(prompt + texts[i], impl_->max_seq_length));
    } catch (const Error& e) {
      rethrow_with_context(e, "text " + std::to_string(i));
    }
  }
  return out;
}

Matrix BiEncoder::embed_tokens(const std::vector<TokenIds>& inputs, std::size_t prompt_length,
                               const ProgressFn& progress) const {
  Matrix out(inputs.size(), dimension());
  impl_->model->run(
      inputs,
      [&](const std::vector<std::size_t>& rows, const at::Tensor& hidden, const at::Tensor& mask) {
        at::Tensor pooled = impl_->pool(hidden.to(at::kFloat), mask, prompt_length);
        const float* src = pooled.data_ptr<float>();
        for (std::size_t r = 0; r < rows.size(); ++r) {
          std::copy_n(src + r * out.cols, out.cols, out.row(rows[r]));
        }
      },
      progress);
  return out;
}

Matrix BiEncoder::embed(const std::vector<std::string>& texts, const std::string& prompt,
                        const ProgressFn& progress) const {
  const std::size_t prompt_length =
      impl_->pooling.include_prompt || prompt.empty() ? 0 : prompt_token_count(prompt);
  return embed_tokens(tokenize(texts, prompt), prompt_length, progress);
}

std::size_t BiEncoder::prompt_token_count(const std::string& prompt) const {
  return impl_->model->tokenizer.encode(prompt, impl_->max_seq_length).size() - 1;
}

std::optional<std::string> BiEncoder::prompt(const std::string& name) const {
  auto it = impl_->prompts.find(name);
  if (it == impl_->prompts.end()) return std::nullopt;
  return it->second;
}

const std::map<std::string, std::string>& BiEncoder::prompts() const {
  return impl_->prompts;
}
const std::string& BiEncoder::default_prompt_name() const {
  return impl_->default_prompt_name;
}

std::size_t BiEncoder::dimension() const {
  return static_cast<std::size_t>(impl_->model->config.hidden_size) * impl_->pooling.modes.size();
}

std::size_t BiEncoder::max_seq_length() const {
  return impl_->max_seq_length;
}

std::string BiEncoder::pooling() const {
  std::string s;
  for (PoolMode m : impl_->pooling.modes) s += (s.empty() ? "" : "+") + std::string(mode_name(m));
  return s;
}

bool BiEncoder::normalizes() const {
  return impl_->normalize;
}
DType BiEncoder::dtype() const {
  return impl_->model->dtype;
}
const Tokenizer& BiEncoder::tokenizer() const {
  return impl_->model->tokenizer;
}
const fs::path& BiEncoder::directory() const {
  return impl_->root;
}

}  // namespace skillmatch
