#include "skillmatch/model/model_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>

#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/text/tokenizer_files.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

constexpr std::pair<const char*, PoolMode> kModeKeys[] = {
    {"pooling_mode_cls_token", PoolMode::kCls},
    {"pooling_mode_max_tokens", PoolMode::kMax},
    {"pooling_mode_mean_tokens", PoolMode::kMean},
    {"pooling_mode_mean_sqrt_len_tokens", PoolMode::kMeanSqrtLen},
    {"pooling_mode_weightedmean_tokens", PoolMode::kWeightedMean},
    {"pooling_mode_lasttoken", PoolMode::kLastToken},
};

nlohmann::json json_if_exists(const fs::path& file) {
  return fs::exists(file) ? load_json_file(file) : nlohmann::json();
}

PoolingConfig read_pooling(const nlohmann::json& j, const std::string& what, std::int64_t hidden) {
  SM_CHECK(j.is_object(), ErrorKind::kCorrupt, what + ": expected a JSON object");
  PoolingConfig spec;
  spec.modes.clear();
  std::int64_t dim = hidden;
  get_key(j, "word_embedding_dimension", dim, false, what);
  SM_CHECK(hidden == 0 || dim == hidden, ErrorKind::kCorrupt,
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
      if (short_form == pool_mode_name(kv.second) ||
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

// modules.json: which modules run, in which sub-folders.
void read_modules(ModelFolder& m, const fs::path& dir, std::int64_t hidden) {
  SentenceTransformersConfig& st = m.sentence_transformers();
  ModelFolder::Documents& docs = m.documents();
  const fs::path modules_file = dir / "modules.json";
  st.transformer_dir = dir;
  docs.modules = json_if_exists(modules_file);
  if (docs.modules.is_null()) return;
  st.present = true;
  const std::string what = modules_file.string();
  SM_CHECK(docs.modules.is_array(), ErrorKind::kCorrupt,
           what + ": expected a JSON array of modules");
  bool has_transformer = false, has_pooling = false;
  for (const auto& mod : docs.modules) {
    SM_CHECK(mod.is_object(), ErrorKind::kCorrupt, what + ": a module entry is not an object");
    std::string type, path;
    get_key(mod, "type", type, true, what);
    get_key(mod, "path", path, false, what);
    const std::string name = type.substr(type.rfind('.') + 1);
    if (name == "Transformer") {
      SM_CHECK(!has_transformer && !has_pooling, ErrorKind::kUnsupported,
               what + ": the Transformer module must come first and only once");
      has_transformer = true;
      st.transformer_dir = dir / path;
    } else if (name == "Pooling") {
      SM_CHECK(has_transformer && !has_pooling, ErrorKind::kUnsupported,
               what + ": the Pooling module must follow the Transformer module, once");
      has_pooling = true;
      const fs::path file = dir / path / "config.json";
      docs.pooling = load_json_file(file);
      st.pooling = read_pooling(docs.pooling, file.string(), hidden);
    } else if (name == "Normalize") {
      SM_CHECK(has_pooling, ErrorKind::kUnsupported,
               what + ": a Normalize module before pooling is not supported");
      st.normalize = true;
    } else {
      throw Error(ErrorKind::kUnsupported,
                  what + ": module type '" + type +
                      "' is not supported (skillmatch runs Transformer, Pooling, Normalize)");
    }
  }
  SM_CHECK(has_transformer, ErrorKind::kCorrupt, what + ": no Transformer module");
}

void read_sentence_transformers(ModelFolder& m, const fs::path& dir, std::int64_t max_tokens) {
  SentenceTransformersConfig& st = m.sentence_transformers();
  ModelFolder::Documents& docs = m.documents();
  // sentence_bert_config.json: max_seq_length (else the tokenizer's limit), do_lower_case.
  const fs::path sbert = st.transformer_dir / "sentence_bert_config.json";
  docs.sentence_bert_config = json_if_exists(sbert);
  if (!docs.sentence_bert_config.is_null()) {
    const nlohmann::json& j = docs.sentence_bert_config;
    std::int64_t max_len = 0;
    if (get_key(j, "max_seq_length", max_len, false, sbert.string())) {
      SM_CHECK(max_len >= 2, ErrorKind::kCorrupt,
               sbert.string() + ": max_seq_length must be at least 2");
      // Longer than the position table cannot run; Python would fail on the first long text.
      st.max_seq_length = static_cast<std::size_t>(
          max_tokens > 0 ? std::min<std::int64_t>(max_len, max_tokens) : max_len);
    }
    bool lower = false;
    get_key(j, "do_lower_case", lower, false, sbert.string());
    SM_CHECK(!lower, ErrorKind::kUnsupported,
             sbert.string() + ": do_lower_case = true is not supported");
  }
  // config_sentence_transformers.json: named prompts, similarity.
  const fs::path st_config = dir / "config_sentence_transformers.json";
  docs.config_sentence_transformers = json_if_exists(st_config);
  if (docs.config_sentence_transformers.is_null()) return;
  const std::string what = st_config.string();
  const nlohmann::json& j = docs.config_sentence_transformers;
  SM_CHECK(j.is_object(), ErrorKind::kCorrupt, what + ": expected a JSON object");
  get_key(j, "prompts", st.prompts, false, what);
  get_key(j, "default_prompt_name", st.default_prompt_name, false, what);
  SM_CHECK(
      st.default_prompt_name.empty() || st.prompts.count(st.default_prompt_name),
      ErrorKind::kCorrupt,
      what + ": default_prompt_name '" + st.default_prompt_name + "' is not one of the prompts");
  get_key(j, "similarity_fn_name", st.similarity_fn_name, false, what);
  // skillmatch ranks by cosine (dot product of normalized vectors); others would rank
  // differently.
  SM_CHECK(
      st.similarity_fn_name.empty() || st.similarity_fn_name == "cosine" ||
          (st.similarity_fn_name == "dot" && st.normalize),
      ErrorKind::kUnsupported,
      what + ": similarity_fn_name '" + st.similarity_fn_name + "' is not supported (cosine only)");
}

std::optional<fs::path> existing(const fs::path& p) {
  if (fs::is_regular_file(p)) return p;
  return std::nullopt;
}

void write_json(const fs::path& file, const nlohmann::json& j) {
  write_file_atomic(file, [&](std::FILE* f) {
    const std::string text = j.dump(2) + "\n";
    if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
      throw Error(ErrorKind::kIo, "cannot write " + file.string());
    }
  });
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  write_file_atomic(file, [&](std::FILE* f) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      throw Error(ErrorKind::kIo, "cannot write " + file.string());
    }
  });
}

// The sentence-transformers files of a bi-encoder, from the parsed settings over the documents
// the source had (so that keys skillmatch does not read are kept).
void write_sentence_transformers(const fs::path& out, const ModelFolder& meta) {
  const SentenceTransformersConfig& st = meta.sentence_transformers();
  const ModelFolder::Documents& docs = meta.documents();
  nlohmann::json modules = nlohmann::json::array();
  modules.push_back({{"idx", 0},
                     {"name", "0"},
                     {"path", ""},
                     {"type", "sentence_transformers.models.Transformer"}});
  modules.push_back({{"idx", 1},
                     {"name", "1"},
                     {"path", "1_Pooling"},
                     {"type", "sentence_transformers.models.Pooling"}});
  if (st.normalize) {
    modules.push_back({{"idx", 2},
                       {"name", "2"},
                       {"path", "2_Normalize"},
                       {"type", "sentence_transformers.models.Normalize"}});
    fs::create_directories(out / "2_Normalize");
  }
  write_json(out / "modules.json", modules);

  nlohmann::json pooling = docs.pooling.is_object() ? docs.pooling : nlohmann::json::object();
  pooling["word_embedding_dimension"] = meta.config().hidden_size;
  for (const auto& [key, mode] : kModeKeys) {
    pooling[key] =
        std::find(st.pooling.modes.begin(), st.pooling.modes.end(), mode) != st.pooling.modes.end();
  }
  pooling.erase("pooling_mode");
  pooling["include_prompt"] = st.pooling.include_prompt;
  fs::create_directories(out / "1_Pooling");
  write_json(out / "1_Pooling" / "config.json", pooling);

  nlohmann::json sbert =
      docs.sentence_bert_config.is_object() ? docs.sentence_bert_config : nlohmann::json::object();
  sbert["max_seq_length"] = st.max_seq_length ? st.max_seq_length : meta.tokenizer_max_length();
  sbert["do_lower_case"] = false;
  write_json(out / "sentence_bert_config.json", sbert);

  nlohmann::json cst = docs.config_sentence_transformers.is_object()
                           ? docs.config_sentence_transformers
                           : nlohmann::json::object();
  cst["prompts"] = st.prompts;
  cst["default_prompt_name"] =
      st.default_prompt_name.empty() ? nlohmann::json() : nlohmann::json(st.default_prompt_name);
  cst["similarity_fn_name"] = st.similarity_fn_name.empty() ? "cosine" : st.similarity_fn_name;
  write_json(out / "config_sentence_transformers.json", cst);
}

// XLM-R's tokenizer files as transformers writes them, for a source that has none.
nlohmann::json default_tokenizer_config(std::size_t max_length) {
  return {{"tokenizer_class", "XLMRobertaTokenizer"},
          {"bos_token", "<s>"},
          {"eos_token", "</s>"},
          {"sep_token", "</s>"},
          {"cls_token", "<s>"},
          {"unk_token", "<unk>"},
          {"pad_token", "<pad>"},
          {"mask_token", "<mask>"},
          {"model_max_length", max_length}};
}

nlohmann::json default_special_tokens_map() {
  return {{"bos_token", "<s>"},    {"eos_token", "</s>"},  {"sep_token", "</s>"},
          {"cls_token", "<s>"},    {"unk_token", "<unk>"}, {"pad_token", "<pad>"},
          {"mask_token", "<mask>"}};
}

// Replaces `out` by `staged` so that a reader sees one or the other whole: the two folders are
// exchanged in one step (renameat2 RENAME_EXCHANGE), then the old one, now at `staged`, is
// removed. On a file system that cannot exchange, the old folder is moved aside first.
void swap_into_place(const fs::path& staged, const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(out)) {
    fs::rename(staged, out, ec);
    SM_CHECK(!ec, ErrorKind::kIo,
             "cannot rename " + staged.string() + " to " + out.string() + ": " + ec.message());
    return;
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staged, ec);
    return;
  }
  SM_CHECK(errno == EINVAL || errno == ENOSYS || errno == ENOTSUP, ErrorKind::kIo,
           "cannot put " + staged.string() + " in place of " + out.string() + ": " +
               std::strerror(errno));
  fs::path old = out;
  old += ".old-" + std::to_string(::getpid());
  fs::remove_all(old, ec);
  fs::rename(out, old, ec);
  SM_CHECK(!ec, ErrorKind::kIo,
           "cannot move the old folder " + out.string() + " aside: " + ec.message());
  fs::rename(staged, out, ec);
  if (ec) {
    fs::rename(old, out);
    throw Error(ErrorKind::kIo,
                "cannot rename " + staged.string() + " to " + out.string() + ": " + ec.message());
  }
  fs::remove_all(old, ec);
}

}  // namespace

const char* pool_mode_name(PoolMode m) noexcept {
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

ModelFolder ModelFolder::read(const fs::path& dir) {
  require_directory(dir, "model folder");
  ModelFolder m;
  m.dir_ = dir;
  const fs::path config = dir / "config.json";
  std::int64_t hidden = 0, max_tokens = 0;
  if (fs::exists(config)) {
    m.docs_.config = load_json_file(config);
    m.config_ = ModelConfig::load(config);
    hidden = m.config_->hidden_size;
    max_tokens = m.config_->max_tokens();
  }
  m.docs_.tokenizer_config = json_if_exists(dir / "tokenizer_config.json");
  m.docs_.special_tokens_map = json_if_exists(dir / "special_tokens_map.json");
  read_modules(m, dir, hidden);
  read_sentence_transformers(m, dir, max_tokens);
  if (!m.config_ && m.st_.transformer_dir != dir &&
      fs::exists(m.st_.transformer_dir / "config.json")) {
    // A sentence-transformers folder whose Transformer module sits in a sub-folder.
    m.docs_.config = load_json_file(m.st_.transformer_dir / "config.json");
    m.config_ = ModelConfig::load(m.st_.transformer_dir / "config.json");
  }
  SM_CHECK(m.config_ || m.sentencepiece_file() || m.tokenizer_json_file(), ErrorKind::kNotFound,
           dir.string() +
               " is not a model folder: it has no config.json, tokenizer.json or "
               "sentencepiece.bpe.model");
  return m;
}

const ModelConfig& ModelFolder::config() const {
  SM_CHECK(config_.has_value(), ErrorKind::kNotFound,
           "model config " + (dir_ / "config.json").string() + " does not exist");
  return *config_;
}

void ModelFolder::set_config(const nlohmann::json& config) {
  config_ = ModelConfig::parse(config.dump(), (dir_ / "config.json").string());
  docs_.config = config;
}

ModelKind ModelFolder::kind() const {
  for (const auto& a : config().architectures) {
    if (a.find("ForSequenceClassification") != std::string::npos) return ModelKind::kCrossEncoder;
  }
  return ModelKind::kBiEncoder;
}

std::optional<fs::path> ModelFolder::weights_file() const {
  const fs::path& d = st_.transformer_dir.empty() ? dir_ : st_.transformer_dir;
  if (auto p = existing(d / "model.safetensors")) return p;
  return existing(d / "pytorch_model.bin");
}

std::optional<fs::path> ModelFolder::sentencepiece_file() const {
  if (auto p = existing(dir_ / "sentencepiece.bpe.model")) return p;
  if (st_.transformer_dir != dir_) return existing(st_.transformer_dir / "sentencepiece.bpe.model");
  return std::nullopt;
}

std::optional<fs::path> ModelFolder::tokenizer_json_file() const {
  if (auto p = existing(dir_ / "tokenizer.json")) return p;
  if (st_.transformer_dir != dir_) return existing(st_.transformer_dir / "tokenizer.json");
  return std::nullopt;
}

Tokenizer ModelFolder::load_tokenizer() const {
  if (auto j = tokenizer_json_file()) return Tokenizer::load(*j);
  if (auto s = sentencepiece_file()) return Tokenizer::load(*s);
  throw Error(ErrorKind::kNotFound, dir_.string() +
                                        ": the folder has neither tokenizer.json nor "
                                        "sentencepiece.bpe.model");
}

std::size_t ModelFolder::tokenizer_max_length() const {
  std::size_t limit = config_ ? static_cast<std::size_t>(config_->max_tokens()) : 0;
  const nlohmann::json& j = docs_.tokenizer_config;
  if (j.is_object()) {
    // Tokenizers without a limit store a huge sentinel (transformers' 1e30); only a real limit
    // applies, and none is anywhere near 2^31 (a larger value must not be converted either).
    auto it = j.find("model_max_length");
    if (it != j.end() && it->is_number()) {
      const double v = it->get<double>();
      if (v >= 4 && v < 2147483648.0 && (limit == 0 || v < static_cast<double>(limit))) {
        limit = static_cast<std::size_t>(v);
      }
    }
  }
  return limit;
}

std::vector<WeightTensor> weight_tensors(const SafetensorsFile& file) {
  std::vector<WeightTensor> out;
  for (const TensorInfo& t : file.tensors()) {
    out.push_back({t.name, t.dtype, t.shape, file.data(t), t.nbytes});
  }
  return out;
}

void write_safetensors(const fs::path& file, const std::vector<WeightTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const WeightTensor*> sorted;
  std::set<std::string> names;
  for (const WeightTensor& t : tensors) {
    SM_CHECK(names.insert(t.name).second, ErrorKind::kInvalidArgument,
             "tensor " + t.name + " is given twice");
    std::size_t expected = tensor_dtype_size(t.dtype);
    for (const std::int64_t d : t.shape) {
      SM_CHECK(d >= 0, ErrorKind::kInvalidArgument, "tensor " + t.name + " has a negative size");
      expected *= static_cast<std::size_t>(d);
    }
    SM_CHECK(expected == t.nbytes, ErrorKind::kInvalidArgument,
             "tensor " + t.name + " of shape " + format_shape(t.shape) + " and dtype " +
                 tensor_dtype_name(t.dtype) + " needs " + std::to_string(expected) +
                 " bytes, got " + std::to_string(t.nbytes));
    sorted.push_back(&t);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const WeightTensor* a, const WeightTensor* b) { return a->name < b->name; });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const WeightTensor* t : sorted) {
    header[t->name] = {{"dtype", tensor_dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->nbytes}}};
    offset += t->nbytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // data starts 8-byte aligned
  write_file_atomic(file, [&](std::FILE* f) {
    const std::uint64_t n = text.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, n, f) == n;
    for (const WeightTensor* t : sorted) {
      ok = ok && (t->nbytes == 0 || std::fwrite(t->data, 1, t->nbytes, f) == t->nbytes);
    }
    SM_CHECK(ok, ErrorKind::kIo, "cannot write " + file.string());
  });
}

void write_model_folder(const fs::path& out, const ModelFolder& meta,
                        const std::vector<WeightTensor>& weights) {
  SM_CHECK(meta.documents().config.is_object(), ErrorKind::kInvalidArgument,
           "cannot write a model folder without a config (" + meta.dir().string() + ")");
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  SM_CHECK(!ec, ErrorKind::kIo, "cannot create " + parent.string() + ": " + ec.message());
  fs::path staged = out;
  staged += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  fs::create_directory(staged, ec);
  SM_CHECK(!ec, ErrorKind::kIo, "cannot create " + staged.string() + ": " + ec.message());
  try {
    write_json(staged / "config.json", meta.documents().config);
    write_safetensors(staged / "model.safetensors", weights);
    const auto spm = meta.sentencepiece_file();
    const auto tj = meta.tokenizer_json_file();
    SM_CHECK(spm || tj, ErrorKind::kNotFound,
             meta.dir().string() + " has no tokenizer file to write with the model");
    if (spm) {
      fs::copy_file(*spm, staged / "sentencepiece.bpe.model");
    } else {
      write_bytes(staged / "sentencepiece.bpe.model", sentencepiece_model_from_tokenizer_json(*tj));
    }
    if (tj) {
      fs::copy_file(*tj, staged / "tokenizer.json");
    } else {
      write_bytes(staged / "tokenizer.json", tokenizer_json_from_sentencepiece(*spm));
    }
    const ModelFolder::Documents& docs = meta.documents();
    write_json(staged / "tokenizer_config.json",
               docs.tokenizer_config.is_object()
                   ? docs.tokenizer_config
                   : default_tokenizer_config(meta.tokenizer_max_length()));
    write_json(staged / "special_tokens_map.json", docs.special_tokens_map.is_object()
                                                       ? docs.special_tokens_map
                                                       : default_special_tokens_map());
    if (meta.kind() == ModelKind::kBiEncoder) write_sentence_transformers(staged, meta);
    swap_into_place(staged, out);
  } catch (...) {
    fs::remove_all(staged, ec);
    throw;
  }
}

}  // namespace skillmatch
