// tokenize, embed, rerank, info, pull: the commands over models, JSON Lines in and out.
#include <iostream>
#include <memory>

#include "cli_options.h"
#include "commands.h"
#include "common.h"
#include "io_options.h"
#include "jsonl.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/engine.h"

namespace skillmatch::cli {
namespace {

// Records are read and run in chunks: output order is input order, memory stays bounded however
// long the input, and each chunk is large enough for length-sorted batching to pay off.
constexpr std::size_t kChunk = 1024;

const FlagSpec kModelFlags{{}, {}, {{"model", "-m"}}, {"model"}};

// The string member `key` of a record, valid UTF-8 (errors name the member; the caller adds the
// line).
std::string text_member(const nlohmann::json& rec, const char* key) {
  std::string s = JsonlReader::require_string(rec, key);
  try {
    validate_utf8(s);
  } catch (const Error& e) {
    rethrow_with_context(e, std::string("\"") + key + "\"");
  }
  return s;
}

void warn_slow_bf16(const ModelSettings& s) {
  if (s.dtype == DType::kBFloat16 && !cpu_has_native_bf16()) {
    note("warning: this CPU (" + cpu_features() +
         ") has no bfloat16 matrix unit (AMX or AVX512-BF16); bfloat16 runs far slower than "
         "float32 here");
  }
}

struct TokenizeCommand {
  TokenizeOptions options;
  IoOptions io;
  bool pieces = false;

  void run() const {
    Engine engine{EngineOptions{}};
    engine.tokenize({}, options);  // a wrong model fails before any input is read
    io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
      JsonlReader reader(in, name);
      nlohmann::json rec;
      std::string out;
      while (reader.next(rec)) {
        const TokenIds ids = at_line(reader, [&] {
          const std::string text = text_member(rec, "text");
          if (rec.contains("text_pair")) {
            return engine.tokenize_pairs({{text, text_member(rec, "text_pair")}}, options)[0];
          }
          return engine.tokenize({text}, options)[0];
        });
        out.clear();
        begin_record(out, rec.value("id", nlohmann::json()));
        out += "\"ids\":";
        out += nlohmann::json(ids).dump();
        if (pieces) {
          out += ",\"pieces\":";
          out += nlohmann::json(engine.pieces(ids, options.model)).dump();
        }
        out += "}\n";
        write_all(f, out);
      }
    });
  }
};

struct EmbedCommand {
  EmbedOptions options;
  IoOptions io;

  void run() const {
    warn_slow_bf16(options.settings);
    Engine engine{EngineOptions{}};
    engine.embed({}, options);  // a wrong model fails before any input is read
    io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
      JsonlReader reader(in, name);
      Matrix m;
      run_chunked<std::string>(
          reader, f, kChunk, [](const nlohmann::json& rec) { return text_member(rec, "text"); },
          [&](const std::vector<std::string>& texts) { m = engine.embed(texts, options); },
          [&](std::size_t i, std::string& out) {
            out += "\"embedding\":";
            append_float_array(out, m.row(i), m.cols);
          });
    });
  }
};

struct RerankCommand {
  RerankOptions options;
  IoOptions io;

  void run() const {
    warn_slow_bf16(options.settings);
    Engine engine{EngineOptions{}};
    engine.rerank({}, options);  // a wrong model fails before any input is read
    io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
      JsonlReader reader(in, name);
      std::vector<float> scores;
      run_chunked<TextPair>(
          reader, f, kChunk,
          [](const nlohmann::json& rec) {
            return TextPair{text_member(rec, "query"), text_member(rec, "passage")};
          },
          [&](const std::vector<TextPair>& pairs) { scores = engine.rerank(pairs, options); },
          [&](std::size_t i, std::string& out) {
            out += "\"score\":";
            append_float(out, scores[i]);
            out += ",\"score_sigmoid\":";
            append_float(out, sigmoid(scores[i]));
          });
    });
  }
};

struct InfoCommand {
  EmbedOptions options;  // model and settings

  void run() const {
    Engine engine{EngineOptions{}};
    const ModelInfo info = engine.model_info(options.model, options.settings);
    nlohmann::ordered_json j;
    j["model"] = info.name;
    j["folder"] = info.folder.string();
    j["architecture"] = info.architecture;
    j["layers"] = info.layers;
    j["hidden_size"] = info.hidden_size;
    j["heads"] = info.heads;
    j["vocab_size"] = info.vocab_size;
    j["tokenizer"] = info.tokenizer_file;
    if (info.kind == ModelKind::kCrossEncoder) {
      j["kind"] = "cross-encoder";
      j["max_length"] = info.max_length;
    } else {
      j["kind"] = "bi-encoder";
      j["dimension"] = info.dimension;
      j["pooling"] = info.pooling;
      j["normalize"] = info.normalize;
      j["max_seq_length"] = info.max_seq_length;
      j["prompts"] = info.prompts;
      j["default_prompt_name"] = info.default_prompt_name;
    }
    j["fingerprint"] = info.fingerprint;
    j["dtype"] = dtype_name(info.dtype);
    j["threads"] = num_threads();
    j["cpu"] = cpu_features();
    std::cout << j.dump(2) << "\n";
  }
};

}  // namespace

void add_model_commands(CLI::App& app) {
  {
    auto cmd = std::make_shared<TokenizeCommand>();
    CLI::App* sub = app.add_subcommand(
        "tokenize",
        "XLM-R token ids of texts. In: {\"text\": ...} (optionally \"text_pair\"). "
        "Out: {\"ids\": [...]}");
    add_table_options(*sub, tokenize_option_table(), cmd->options, kModelFlags);
    sub->add_flag("--pieces", cmd->pieces, "also output the SentencePiece pieces of the ids");
    cmd->io.add_to(*sub);
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<EmbedCommand>();
    CLI::App* sub = app.add_subcommand(
        "embed",
        "Sentence embeddings with a sentence-transformers bi-encoder. In: {\"text\": ...}. "
        "Out: {\"embedding\": [...]}");
    add_table_options(*sub, embed_option_table(), cmd->options, kModelFlags);
    cmd->io.add_to(*sub);
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<RerankCommand>();
    CLI::App* sub = app.add_subcommand(
        "rerank",
        "Relevance scores with a cross-encoder. In: {\"query\": ..., \"passage\": ...}. "
        "Out: {\"score\": logit, \"score_sigmoid\": p}");
    add_table_options(*sub, rerank_option_table(), cmd->options, kModelFlags);
    cmd->io.add_to(*sub);
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<InfoCommand>();
    CLI::App* sub = app.add_subcommand("info", "Describe a model folder as skillmatch loads it");
    FlagSpec spec = kModelFlags;
    spec.only = {"model", "dtype", "batch-size"};
    add_table_options(*sub, embed_option_table(), cmd->options, spec);
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto opts = std::make_shared<PullOptions>();
    auto id = std::make_shared<std::string>();
    CLI::App* sub = app.add_subcommand(
        "pull", "Download a model from the Hugging Face Hub into the Hugging Face cache");
    sub->add_option("model", *id, "Hub id, e.g. isy-thl/bge-reranker-base-course-skill-tuned")
        ->required();
    sub->add_option("--revision", opts->revision, "branch, tag or commit")->capture_default_str();
    sub->add_option("--endpoint", opts->endpoint,
                    "Hub URL (default $HF_ENDPOINT or huggingface.co)");
    sub->add_option_function<std::string>(
           "--timeout",
           [opts](const std::string& v) {
             opts->timeout_seconds = static_cast<int>(parse_count("--timeout", v, 1, 3600));
           },
           "seconds to wait for a connection or the next bytes (1 to 3600, default 30)")
        ->type_name("S");
    sub->callback([opts, id] {
      opts->progress = [bars = progress_bars()](const std::string& file, std::uint64_t done,
                                                std::uint64_t total) {
        bars(file, static_cast<std::size_t>(done), static_cast<std::size_t>(total));
      };
      Engine engine{EngineOptions{}};
      const PullResult r = engine.pull(*id, *opts);
      std::cout << r.snapshot.string() << "\n";
      note(std::to_string(r.files) + " files, " + std::to_string(r.bytes_downloaded) +
           " bytes downloaded (commit " + r.commit + ")");
    });
  }
}

}  // namespace skillmatch::cli
