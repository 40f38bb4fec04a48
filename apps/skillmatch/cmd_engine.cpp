// tokenize, embed, rerank, info: the engine's commands, JSON Lines in and out.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "io_options.h"
#include "jsonl.h"
#include "skillmatch/core/error.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/model/model_config.h"
#include "skillmatch/model/runtime.h"
#include "skillmatch/text/tokenizer.h"

namespace fs = std::filesystem;

namespace skillmatch::cli {
namespace {

// Records are read and run in chunks: output order is input order, memory stays bounded however
// long the input, and each chunk is large enough for length-sorted batching to pay off.
constexpr std::size_t kChunk = 1024;

struct ModelOptions {
  std::string model;
  std::string dtype = "auto";
  std::size_t batch_size = 32;

  void add_to(CLI::App& cmd, bool with_inference) {
    cmd.add_option("-m,--model", model,
                   "model folder (Hugging Face layout) or Hub id in the Hugging Face cache")
        ->required();
    if (!with_inference) return;
    cmd.add_option("--dtype", dtype,
                   "number type: auto (bfloat16 where the CPU has AMX/AVX512-BF16, else "
                   "float32), float32, bfloat16")
        ->capture_default_str();
    cmd.add_option("--batch-size", batch_size, "sequences per forward pass")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{4096}));
  }

  // The model folder: --model as a folder, or a Hub id found in the Hugging Face cache.
  fs::path folder() const { return resolve_model(model); }

  InferenceOptions inference() const {
    InferenceOptions o;
    o.dtype = parse_dtype(dtype);
    o.batch_size = batch_size;
    if (o.dtype == DType::kBFloat16 && !cpu_has_native_bf16()) {
      std::cerr << "skillmatch: warning: this CPU (" << cpu_features()
                << ") has no bfloat16 matrix unit (AMX or AVX512-BF16); bfloat16 runs far "
                   "slower than float32 here\n";
    }
    return o;
  }
};

// --model of tokenize: a SentencePiece file, a folder, or a Hub id in the cache.
fs::path spm_path(const std::string& model) {
  if (fs::is_regular_file(model)) return model;
  return resolve_model(model) / "sentencepiece.bpe.model";
}

// -------------------------------------------------------------------------------- tokenize
struct TokenizeCommand {
  ModelOptions model;
  IoOptions io;
  std::size_t max_length = 512;
  bool pieces = false;

  void run() const {
    const Tokenizer tok = Tokenizer::load(spm_path(model.model));
    io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
      JsonlReader reader(in, name);
      nlohmann::json rec;
      std::string out;
      while (reader.next(rec)) {
        const TokenIds ids = at_line(reader, [&] {
          const std::string text = reader.require_string(rec, "text");
          if (rec.contains("text_pair")) {
            return tok.encode_pair(text, reader.require_string(rec, "text_pair"), max_length);
          }
          return tok.encode(text, max_length);
        });
        out.clear();
        begin_record(out, rec.value("id", nlohmann::json()));
        out += "\"ids\":";
        out += nlohmann::json(ids).dump();
        if (pieces) {
          std::vector<std::string> ps;
          for (auto id : ids) ps.push_back(tok.id_to_piece(id));
          out += ",\"pieces\":";
          out += nlohmann::json(ps).dump();
        }
        out += "}\n";
        write_all(f, out);
      }
    });
  }
};

// -------------------------------------------------------------------------------- embed
struct EmbedCommand {
  ModelOptions model;
  IoOptions io;
  std::string prompt_name;
  std::string prompt_text;
  bool prompt_text_set = false;

  void run() const {
    const BiEncoder enc = BiEncoder::load(model.folder(), model.inference());
    const std::string prompt = resolve_prompt(enc);
    const std::size_t prompt_length = prompt.empty() ? 0 : enc.prompt_token_count(prompt);
    io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
      JsonlReader reader(in, name);
      Matrix m;
      run_chunked<TokenIds>(
          reader, f, kChunk,
          [&](const nlohmann::json& rec) {
            return enc.tokenize({reader.require_string(rec, "text")}, prompt)[0];
          },
          [&](const std::vector<TokenIds>& inputs) { m = enc.embed_tokens(inputs, prompt_length); },
          [&](std::size_t i, std::string& out) {
            out += "\"embedding\":";
            append_float_array(out, m.row(i), m.cols);
          });
    });
  }

  // --prompt-text wins; else --prompt NAME|none; else the model's default prompt, if any.
  std::string resolve_prompt(const BiEncoder& enc) const {
    if (prompt_text_set) return prompt_text;
    std::string name = prompt_name.empty() ? enc.default_prompt_name() : prompt_name;
    if (name.empty() || name == "none") return "";
    auto p = enc.prompt(name);
    if (!p) {
      std::string known;
      for (const auto& [k, v] : enc.prompts()) known += (known.empty() ? "" : ", ") + k;
      throw Error(ErrorKind::kInvalidArgument,
                  "the model defines no prompt named '" + name +
                      "' (it has: " + (known.empty() ? std::string("none") : known) + ")");
    }
    return *p;
  }
};

// -------------------------------------------------------------------------------- rerank
struct RerankCommand {
  ModelOptions model;
  IoOptions io;
  std::size_t max_length = 0;

  void run() const {
    const CrossEncoder ce = CrossEncoder::load(model.folder(), model.inference());
    io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
      JsonlReader reader(in, name);
      std::vector<float> scores;
      run_chunked<TokenIds>(
          reader, f, kChunk,
          [&](const nlohmann::json& rec) {
            TextPair pair{reader.require_string(rec, "query"),
                          reader.require_string(rec, "passage")};
            return ce.tokenize({pair}, max_length)[0];
          },
          [&](const std::vector<TokenIds>& inputs) { scores = ce.score_tokens(inputs); },
          [&](std::size_t i, std::string& out) {
            out += "\"score\":";
            append_float(out, scores[i]);
            out += ",\"score_sigmoid\":";
            append_float(out, sigmoid(scores[i]));
          });
    });
  }
};

// -------------------------------------------------------------------------------- info
struct InfoCommand {
  ModelOptions model;

  void run() const {
    const fs::path folder = model.folder();
    const ModelConfig config = ModelConfig::load(folder / "config.json");
    bool is_classifier = false;
    for (const auto& a : config.architectures) {
      is_classifier = is_classifier || a.find("ForSequenceClassification") != std::string::npos;
    }
    nlohmann::ordered_json j;
    j["model"] = model.model;
    j["architecture"] = config.architectures.empty() ? "" : config.architectures[0];
    j["layers"] = config.num_hidden_layers;
    j["hidden_size"] = config.hidden_size;
    j["heads"] = config.num_attention_heads;
    j["vocab_size"] = config.vocab_size;
    InferenceOptions o = model.inference();
    if (is_classifier) {
      const CrossEncoder ce = CrossEncoder::load(folder, o);
      j["kind"] = "cross-encoder";
      j["max_length"] = ce.max_length();
      j["dtype"] = dtype_name(ce.dtype());
    } else {
      const BiEncoder enc = BiEncoder::load(folder, o);
      j["kind"] = "bi-encoder";
      j["dimension"] = enc.dimension();
      j["pooling"] = enc.pooling();
      j["normalize"] = enc.normalizes();
      j["max_seq_length"] = enc.max_seq_length();
      j["prompts"] = enc.prompts();
      j["default_prompt_name"] = enc.default_prompt_name();
      j["dtype"] = dtype_name(enc.dtype());
    }
    j["threads"] = num_threads();
    j["cpu"] = cpu_features();
    std::cout << j.dump(2) << "\n";
  }
};

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto cmd = std::make_shared<TokenizeCommand>();
  CLI::App* sub = app.add_subcommand(
      "tokenize",
      "XLM-R token ids of texts. In: {\"text\": ...} (optionally \"text_pair\"). "
      "Out: {\"ids\": [...]}");
  cmd->model.add_to(*sub, false);
  sub->add_option("--max-length", cmd->max_length, "truncate to at most N ids, specials included")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{4}, std::size_t{1} << 30));
  sub->add_flag("--pieces", cmd->pieces, "also output the SentencePiece pieces of the ids");
  cmd->io.add_to(*sub);
  sub->callback([cmd] { cmd->run(); });
}

void add_embed_command(CLI::App& app) {
  auto cmd = std::make_shared<EmbedCommand>();
  CLI::App* sub = app.add_subcommand(
      "embed",
      "Sentence embeddings with a sentence-transformers bi-encoder. In: {\"text\": ...}. "
      "Out: {\"embedding\": [...]}");
  cmd->model.add_to(*sub, true);
  sub->add_option("--prompt", cmd->prompt_name,
                  "named prompt of the model (query, passage) or none; default: the model's "
                  "default_prompt_name, else none");
  sub->add_option("--prompt-text", cmd->prompt_text, "literal prompt text prepended to each text")
      ->each([cmd](const std::string&) { cmd->prompt_text_set = true; });
  cmd->io.add_to(*sub);
  sub->callback([cmd] { cmd->run(); });
}

void add_rerank_command(CLI::App& app) {
  auto cmd = std::make_shared<RerankCommand>();
  CLI::App* sub = app.add_subcommand(
      "rerank",
      "Relevance scores with a cross-encoder. In: {\"query\": ..., \"passage\": ...}. "
      "Out: {\"score\": logit, \"score_sigmoid\": p}");
  cmd->model.add_to(*sub, true);
  sub->add_option("--max-length", cmd->max_length,
                  "truncate pairs longest-first to N ids (default: the model's limit, 512)")
      ->check(CLI::Range(std::size_t{4}, std::size_t{1} << 20));
  cmd->io.add_to(*sub);
  sub->callback([cmd] { cmd->run(); });
}

void add_info_command(CLI::App& app) {
  auto cmd = std::make_shared<InfoCommand>();
  CLI::App* sub = app.add_subcommand("info", "Describe a model folder as skillmatch loads it");
  cmd->model.add_to(*sub, true);
  sub->callback([cmd] { cmd->run(); });
}

}  // namespace skillmatch::cli
