// index, match: embedding the skills and matching course texts to them.
#include <cstdio>
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

nlohmann::ordered_json results_json(const std::vector<MatchResult>& results) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json j;
    j["rank"] = r.rank;
    j["taxonomy"] = r.skill.taxonomy;
    j["uri"] = r.skill.record.uri;
    j["label"] = r.skill.record.label;
    j["score"] = r.score;
    nlohmann::ordered_json s = nlohmann::ordered_json::object();
    if (r.cosine) s["cosine"] = *r.cosine;
    if (r.bm25) s["bm25"] = *r.bm25;
    if (r.fused) s["fused"] = *r.fused;
    if (r.rerank_logit) s["rerank_logit"] = *r.rerank_logit;
    if (r.rerank_sigmoid) s["rerank_sigmoid"] = *r.rerank_sigmoid;
    j["scores"] = s;
    arr.push_back(j);
  }
  return arr;
}

std::string results_table(const std::vector<MatchResult>& results) {
  if (results.empty()) return "no matching skills\n";
  auto num = [](const auto& v, const char* fmt) {
    if (!v) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, double(*v));
    return std::string(buf);
  };
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "%3s  %7s  %7s  %7s  %7s  %8s  %-8s  %s\n", "#", "score",
                "rerank", "cosine", "bm25", "fused", "taxonomy", "skill");
  out += line;
  for (const auto& r : results) {
    std::snprintf(line, sizeof line, "%3zu  %7.4f  %7s  %7s  %7s  %8s  %-8s  ", r.rank, r.score,
                  num(r.rerank_logit, "%.3f").c_str(), num(r.cosine, "%.4f").c_str(),
                  num(r.bm25, "%.2f").c_str(), num(r.fused, "%.5f").c_str(),
                  r.skill.taxonomy.c_str());
    out += line;
    out += r.skill.record.label + "\n";
  }
  return out;
}

struct IndexCommand {
  std::string workspace;
  IndexOptions options;

  void run() const {
    const auto engine = open_engine(workspace);
    const IndexReport r = engine->index(options);
    const IndexStats& s = r.stats;
    std::cout << s.skills << " skills: " << s.embedded << " embedded, ";
    if (s.precomputed) std::cout << s.precomputed << " taken from the model's skill vectors, ";
    std::cout << s.reused << " already indexed (" << r.vector_file.filename().string() << ")\n";
    if (!options.export_vectors.empty()) {
      std::cout << "wrote " << r.exported << " vectors to " << options.export_vectors << "\n";
    }
    if (r.ann_up_to_date) {
      std::cout << "approximate index up to date\n";
    } else if (r.ann_built) {
      std::printf("approximate index: HNSW M=%d efConstruction=%d over %zu skills in %.1f s\n",
                  options.ann_options.m, options.ann_options.ef_construction, s.skills,
                  r.ann_seconds);
    }
  }
};

struct MatchCommand {
  std::string workspace;
  std::string text;
  bool jsonl = false, json = false;
  std::size_t shard = 0, shards = 1;  // --shard K/N
  IoOptions io;
  MatchOptions options;

  void run() {
    const auto engine = open_engine(workspace);
    if (options.search.mode != RetrievalMode::kBm25 &&
        use_builtin_embedder(options.embedder, options.reranker, options.settings.dtype)) {
      const std::string model = std::string("skillmatch's built-in model ") + kDefaultEmbedderName +
                                ", trained from the shipped ESCO data";
      note("no --embedder given: matching " +
           (options.search.mode == RetrievalMode::kHybrid ? "hybrid (BM25 fused with " + model + ")"
                                                          : "with " + model) +
           ". For the WISY@KI pipeline pass --embedder and --reranker (see `skillmatch pull`); "
           "--mode bm25 for BM25 alone");
    } else if (options.embedder.empty() && options.search.mode != RetrievalMode::kBm25) {
      note(
          "no embedding model given: matching by BM25 only. For the neural pipeline run "
          "`skillmatch pull` for isy-thl/multilingual-e5-base-course-skill-tuned and "
          "isy-thl/bge-reranker-base-course-skill-tuned and pass them as --embedder and "
          "--reranker");
      options.search.mode = RetrievalMode::kBm25;
    }
    if (jsonl) {
      SM_CHECK(text.empty(), ErrorKind::kInvalidArgument,
               "with --jsonl the texts come as JSON Lines on stdin or from --input, not as an "
               "argument");
      io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
        JsonlReader reader(in, name);
        std::vector<std::vector<MatchResult>> results;
        run_chunked<std::string>(
            reader, f, 64,
            [](const nlohmann::json& rec) {
              std::vector<std::string> one{JsonlReader::require_string(rec, "text")};
              check_match_texts(one);
              return one[0];
            },
            [&](const std::vector<std::string>& texts) {
              results = engine->match_batch(texts, options);
            },
            [&](std::size_t i, std::string& out) {
              out += "\"results\":";
              out += results_json(results[i]).dump();
            },
            [&](std::size_t n) { return n % shards == shard; });
      });
      return;
    }
    SM_CHECK(text.empty() || io.input == "-", ErrorKind::kInvalidArgument,
             "give the course text as an argument or with --input, not both");
    const std::string input = text.empty() ? io.read_input() : text;
    SM_CHECK(input.find_first_not_of(" \t\r\n\v\f") != std::string::npos,
             ErrorKind::kInvalidArgument,
             "no course text given (pass it as an argument, with --input FILE or on stdin)");
    const auto results = engine->match(input, options);
    if (json) {
      nlohmann::ordered_json j;
      j["mode"] = retrieval_mode_name(options.search.mode);
      j["results"] = results_json(results);
      io.write_output(j.dump(2) + "\n");
    } else {
      io.write_output(results_table(results));
    }
  }
};

}  // namespace

void add_match_commands(CLI::App& app) {
  {
    auto cmd = std::make_shared<IndexCommand>();
    CLI::App* sub = app.add_subcommand(
        "index", "Embed every skill of the workspace (resumable; only new or changed skills)");
    add_workspace_option(*sub, cmd->workspace);
    add_table_options(*sub, index_option_table(), cmd->options,
                      {{}, {}, {{"embedder", "-e"}}, {"embedder"}});
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<MatchCommand>();
    CLI::App* sub = app.add_subcommand("match", "The skills a course text teaches, ranked");
    add_workspace_option(*sub, cmd->workspace);
    sub->add_option("text", cmd->text, "course text (default: --input FILE or stdin)");
    sub->add_flag("--jsonl", cmd->jsonl,
                  "many texts as JSON Lines {\"id\", \"text\"} on stdin/--input, results as "
                  "JSON Lines");
    cmd->io.add_to(*sub);
    add_table_options(*sub, match_option_table(), cmd->options,
                      {{}, {}, {{"embedder", "-e"}, {"reranker", "-r"}}, {}});
    sub->add_flag("--json", cmd->json, "JSON instead of a table");
    sub->add_option_function<std::string>(
           "--shard",
           [cmd](const std::string& v) {
             const auto slash = v.find('/');
             SM_CHECK(
                 slash != std::string::npos, ErrorKind::kInvalidArgument,
                 "--shard: expected K/N (e.g. 0/4: the first of four shards), got '" + v + "'");
             cmd->shards = parse_count("--shard N", v.substr(slash + 1), 1, 100000);
             cmd->shard = parse_count("--shard K", v.substr(0, slash), 0, cmd->shards - 1);
           },
           "with --jsonl: only the records n with n % N == K (K from 0, as Kubernetes' "
           "JOB_COMPLETION_INDEX), so that N jobs tag a catalogue together")
        ->type_name("K/N");
    sub->callback([cmd] {
      SM_CHECK(cmd->shards == 1 || cmd->jsonl, ErrorKind::kInvalidArgument,
               "--shard splits a --jsonl batch");
      cmd->run();
    });
  }
}

}  // namespace skillmatch::cli
