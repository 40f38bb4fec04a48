// Speed of the matching pipeline on ESCO German + GRETA (13,914 skills):
//   - time to index every skill with the bi-encoder;
//   - latency p50/p95 of matching one course text (about 100 tokens): dense only, hybrid
//     (dense + BM25, reciprocal rank fusion), hybrid + rerank of 30 candidates;
//   - batch tagging throughput (courses per second, hybrid + rerank, 64 texts per call).
// Without --reranker the rerank rows are left out and the batch is hybrid alone. Skill vectors
// shipped in the embedder's folder (skill-vectors.bin) are taken as `index` takes them.
//
//   skillmatch_bench_match --embedder DIR [--reranker DIR] --data ../data --courses courses.csv
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "matmul_limit.h"
#include "skillmatch/core/csv.h"
#include "skillmatch/core/io.h"
#include "skillmatch/engine.h"

using namespace skillmatch;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The first `words` words of `text`.
std::string first_words(const std::string& text, std::size_t words) {
  std::istringstream in(text);
  std::string w, out;
  for (std::size_t i = 0; i < words && in >> w; ++i) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"skillmatch matching benchmark"};
  std::string embedder, reranker, data, courses, workspace = "bench-workspace", dtype = "auto";
  int runs = 20;
  app.add_option("--embedder", embedder)->required();
  app.add_option("--reranker", reranker, "cross-encoder (none: no rerank rows)");
  app.add_option("--data", data, "skillmatch's data/ folder")->required();
  app.add_option("--courses", courses, "CSV with a course_description column")->required();
  app.add_option("--workspace", workspace)->capture_default_str();
  app.add_option("--dtype", dtype)->capture_default_str();
  app.add_option("--runs", runs, "latency samples per mode")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    fs::remove_all(workspace);
    EngineOptions eo;
    eo.workspace = workspace;
    eo.data_dir = data;
    Engine engine(eo);
    MatchOptions base;
    base.embedder = embedder;
    base.reranker = reranker;
    base.settings.dtype = parse_dtype(dtype);
    const ModelInfo info = engine.model_info(embedder, base.settings);
    if (!reranker.empty()) engine.model_info(reranker, base.settings);
    std::printf("cpu: %s, threads: %d, dtype: %s\n", cpu_features().c_str(), num_threads(),
                dtype_name(info.dtype));

    // The shipped ESCO German and GRETA, then every skill embedded.
    std::printf("taxonomies: %zu skills\n", engine.skill_count());
    auto t = Clock::now();
    IndexOptions io;
    io.embedder = embedder;
    io.settings = base.settings;
    const IndexStats st = engine.index(io).stats;
    const double index_s = since(t);
    std::printf(
        "index: %zu skills in %.2f s (%.1f skills/s; %zu taken from the model's "
        "skill-vectors.bin)\n",
        st.skills, index_s, double(st.skills) / index_s, st.precomputed);
    // Against the machine's limit: the model's linear layers at a batch of passages of the mean
    // length, this number type, this run (matmul_limit.h).
    if (st.embedded > 0 && st.tokens > 0) {
      // (index time includes loading the model, tokenising and writing the vector file.)
      const auto config = nlohmann::json::parse(read_file(fs::path(embedder) / "config.json"));
      const std::int64_t h = config.at("hidden_size"), f = config.at("intermediate_size"),
                         layers = config.at("num_hidden_layers");
      const auto m = static_cast<std::int64_t>(io.settings.batch_size * st.tokens / st.embedded);
      const bench::MatmulRate rate = bench::measure_matmul_rate(dtype_name(info.dtype), m, h, f, 3);
      SM_CHECK(rate.gflops > 0, ErrorKind::kUnsupported,
               std::string("no matrix product for ") + dtype_name(info.dtype) + " on this CPU");
      const double limit_s =
          double(st.tokens) * bench::linear_flops_per_token(h, f, layers) / (rate.gflops * 1e9);
      std::printf(
          "index: %zu tokens at %.0f tokens/s; the limit (%.0f GFLOP/s, %s) allows %.1f s: "
          "%.0f%% of it\n",
          st.tokens, double(st.tokens) / index_s, rate.gflops, rate.how.c_str(), limit_s,
          100 * limit_s / index_s);
    }

    std::vector<std::string> texts;
    {
      CsvReader csv(courses);
      const std::size_t c = csv.require_column("course_description");
      std::vector<std::string> row;
      while (csv.next(row)) texts.push_back(first_words(row[c], 65));
    }
    std::size_t tokens = 0;
    TokenizeOptions to;
    to.model = embedder;
    std::vector<std::string> queries;
    for (const auto& text : texts) queries.push_back("query: " + text);
    for (const auto& ids : engine.tokenize(queries, to)) tokens += ids.size();
    std::printf("queries: %zu course texts, %.0f tokens on average\n", texts.size(),
                double(tokens) / double(texts.size()));

    struct Mode {
      const char* name;
      RetrievalMode mode;
      bool rerank;
    };
    for (const Mode& md :
         {Mode{"dense", RetrievalMode::kDense, false}, Mode{"bm25", RetrievalMode::kBm25, false},
          Mode{"hybrid", RetrievalMode::kHybrid, false},
          Mode{"hybrid+rerank30", RetrievalMode::kHybrid, true}}) {
      if (md.rerank && reranker.empty()) continue;
      MatchOptions mo = base;
      mo.search.mode = md.mode;
      mo.search.rerank = md.rerank;
      mo.search.candidates = 30;
      engine.match(texts[0], mo);  // warm-up
      std::vector<double> ms;
      for (int i = 0; i < runs; ++i) {
        t = Clock::now();
        engine.match(texts[static_cast<std::size_t>(i) % texts.size()], mo);
        ms.push_back(since(t) * 1000);
      }
      std::sort(ms.begin(), ms.end());
      std::printf("match %-16s p50 %7.1f ms  p95 %7.1f ms\n", md.name, ms[ms.size() / 2],
                  ms[std::min(ms.size() - 1, ms.size() * 95 / 100)]);
    }
    std::vector<std::string> batch;
    for (std::size_t i = 0; i < 64; ++i) batch.push_back(texts[i % texts.size()]);
    t = Clock::now();
    engine.match_batch(batch, base);
    const double bs = since(t);
    std::printf("batch %s: %.2f courses/s (64 courses in %.2f s)\n",
                reranker.empty() ? "hybrid" : "hybrid+rerank30", 64 / bs, bs);
    fs::remove_all(workspace);
  } catch (const Error& e) {
    std::fprintf(stderr, "skillmatch_bench_match: error: %s\n", e.what());
    return exit_code(e.kind());
  }
  return 0;
}
