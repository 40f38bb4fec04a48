#include "skillmatch/model/bi_encoder.h"

#include <cmath>

#include "model/pooling.h"
#include "model/transformer_model.h"
#include "skillmatch/core/error.h"

namespace fs = std::filesystem;

namespace skillmatch {
struct BiEncoder::Impl {
  std::unique_ptr<TransformerModel> model;
  fs::path root;
  PoolingConfig pooling;
  bool normalize = false;
  std::size_t max_seq_length = 512;
  std::map<std::string, std::string> prompts;
  std::string default_prompt_name;

  // [B, H * modes] float32 sentence embeddings of one batch.
  at::Tensor pool(const at::Tensor& hidden, const at::Tensor& mask, std::size_t prompt_length,
                  bool apply_normalize) const {
    return pool_embeddings(hidden, mask, pooling, prompt_length, normalize && apply_normalize)
        .contiguous();
  }
};

BiEncoder BiEncoder::load(const fs::path& dir, const InferenceOptions& options) {
  return load(ModelFolder::read(dir), options);
}

BiEncoder BiEncoder::load(const ModelFolder& folder, const InferenceOptions& options) {
  SM_CHECK(folder.kind() == ModelKind::kBiEncoder, ErrorKind::kInvalidArgument,
           folder.dir().string() +
               " is a cross-encoder (a sequence classifier that scores pairs), not an embedding "
               "model; use it as a reranker");
  auto impl = std::make_shared<Impl>();
  impl->root = folder.dir();
  impl->model = TransformerModel::load(folder, options);
  const SentenceTransformersConfig& st = folder.sentence_transformers();
  impl->pooling = st.pooling;
  impl->normalize = st.normalize;
  impl->max_seq_length = st.max_seq_length ? st.max_seq_length : impl->model->default_max_length;
  impl->prompts = st.prompts;
  impl->default_prompt_name = st.default_prompt_name;
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
                               const ProgressFn& progress, bool normalize) const {
  Matrix out(inputs.size(), dimension());
  impl_->model->run(
      inputs,
      [&](const std::vector<std::size_t>& rows, const at::Tensor& hidden, const at::Tensor& mask) {
        at::Tensor pooled = impl_->pool(hidden.to(at::kFloat), mask, prompt_length, normalize);
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
  for (PoolMode m : impl_->pooling.modes) {
    s += (s.empty() ? "" : "+") + std::string(pool_mode_name(m));
  }
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
