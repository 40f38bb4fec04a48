// Throughput of the engine (tokens per second for embed and rerank, float32 and bfloat16) next
// to a PyTorch eager baseline run on the same ids in the same run (bench/pytorch_baseline.py).
//
//   skillmatch_bench_engine --embedder DIR --reranker DIR --skills all_skills_de.csv
//
// Embed inputs: ESCO skills as "passage: <label>: <description>". Rerank inputs: a course-like
// query (two skill descriptions, about 80 tokens) paired with a skill label, as in matching.
// Tokens are counted without padding. Times are the best of --repeat runs after a warm-up.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "skillmatch/core/csv.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/model/runtime.h"

using namespace skillmatch;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::size_t count_tokens(const std::vector<TokenIds>& v) {
  std::size_t n = 0;
  for (const auto& x : v) n += x.size();
  return n;
}

template <class F>
double best_of(int repeat, F&& f) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    const auto t = Clock::now();
    f();
    best = std::min(best, seconds_since(t));
  }
  return best;
}

struct Run {
  std::string task, dtype;
  double tokens_per_s = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"skillmatch engine benchmark"};
  std::string embedder, reranker, skills, baseline, json_out, dtypes = "float32,bfloat16";
  std::size_t count = 256, batch_size = 32;
  int repeat = 1, threads = 0;
  app.add_option("--embedder", embedder, "bi-encoder folder")->required();
  app.add_option("--reranker", reranker, "cross-encoder folder")->required();
  app.add_option("--skills", skills, "ESCO all_skills_de.csv")->required();
  app.add_option("--count", count, "texts (and pairs) per task")->capture_default_str();
  app.add_option("--batch-size", batch_size)->capture_default_str();
  app.add_option("--dtypes", dtypes)->capture_default_str();
  app.add_option("--repeat", repeat, "timed runs; the best counts")->capture_default_str();
  app.add_option("--threads", threads, "0 = all cores")->capture_default_str();
  app.add_option("--baseline", baseline, "path of pytorch_baseline.py; empty to skip");
  app.add_option("--json", json_out, "write all figures as JSON here");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(threads);
    // Spread the sample over the whole taxonomy.
    std::vector<std::string> labels, descriptions;
    {
      CsvReader csv(skills);
      const std::size_t lc = csv.require_column("preferred_label");
      const std::size_t dc = csv.require_column("description");
      std::vector<std::string> row;
      while (csv.next(row)) {
        labels.push_back(row[lc]);
        descriptions.push_back(row[dc]);
      }
    }
    SM_CHECK(labels.size() >= 2, ErrorKind::kInvalidArgument, skills + ": too few skills");
    const std::size_t step = std::max<std::size_t>(1, labels.size() / count);
    std::vector<std::string> passages;
    std::vector<TextPair> pairs;
    for (std::size_t i = 0; passages.size() < count; i = (i + step) % labels.size()) {
      passages.push_back("passage: " + labels[i] + ": " + descriptions[i]);
      const std::size_t j = (i + 1) % labels.size(), k = (i * 7 + 3) % labels.size();
      pairs.push_back({descriptions[i] + " " + descriptions[j], labels[k]});
    }

    InferenceOptions opt;
    opt.batch_size = batch_size;
    opt.dtype = DType::kFloat32;
    const BiEncoder enc = BiEncoder::load(embedder, opt);
    const CrossEncoder ce = CrossEncoder::load(reranker, opt);

    std::vector<std::string> plain(passages);  // tokenizer throughput on the raw texts
    std::vector<TokenIds> embed_ids, rerank_ids;
    const double tok_s = best_of(repeat, [&] {
      embed_ids = enc.tokenize(plain);
      rerank_ids = ce.tokenize(pairs);
    });
    const std::size_t embed_tokens = count_tokens(embed_ids),
                      rerank_tokens = count_tokens(rerank_ids);
    std::printf("cpu: %s, threads: %d, %zu texts (%zu tokens), %zu pairs (%zu tokens)\n",
                cpu_features().c_str(), num_threads(), embed_ids.size(), embed_tokens,
                rerank_ids.size(), rerank_tokens);
    std::printf("tokenizer: %.0f texts/s (%.0f tokens/s)\n",
                double(plain.size() + pairs.size()) / tok_s,
                double(embed_tokens + rerank_tokens) / tok_s);

    nlohmann::json out;
    out["cpu"] = cpu_features();
    out["threads"] = num_threads();
    out["batch_size"] = batch_size;
    out["embed_texts"] = embed_ids.size();
    out["embed_tokens"] = embed_tokens;
    out["rerank_pairs"] = rerank_ids.size();
    out["rerank_tokens"] = rerank_tokens;
    out["tokenizer_tokens_per_s"] = double(embed_tokens + rerank_tokens) / tok_s;

    const std::size_t check_count = 8;
    std::vector<Run> runs;
    nlohmann::json check;
    std::stringstream ds(dtypes);
    for (std::string name; std::getline(ds, name, ',');) {
      opt.dtype = parse_dtype(name);
      const BiEncoder e = BiEncoder::load(embedder, opt);
      const CrossEncoder c = CrossEncoder::load(reranker, opt);
      const std::vector<TokenIds> warm_e(embed_ids.begin(), embed_ids.begin() + batch_size);
      const std::vector<TokenIds> warm_r(rerank_ids.begin(), rerank_ids.begin() + batch_size);
      e.embed_tokens(warm_e);
      c.score_tokens(warm_r);
      Matrix m;
      std::vector<float> scores;
      const double te = best_of(repeat, [&] { m = e.embed_tokens(embed_ids); });
      const double tr = best_of(repeat, [&] { scores = c.score_tokens(rerank_ids); });
      runs.push_back({"embed", name, double(embed_tokens) / te});
      runs.push_back({"rerank", name, double(rerank_tokens) / tr});
      std::printf("skillmatch embed  %-8s %9.1f tokens/s\n", name.c_str(),
                  runs[runs.size() - 2].tokens_per_s);
      std::printf("skillmatch rerank %-8s %9.1f tokens/s\n", name.c_str(),
                  runs.back().tokens_per_s);
      std::fflush(stdout);
      nlohmann::json ce_rows = nlohmann::json::array(), sc = nlohmann::json::array();
      for (std::size_t i = 0; i < check_count; ++i) {
        ce_rows.push_back(std::vector<float>(m.row(i), m.row(i) + m.cols));
        sc.push_back(scores[i]);
      }
      check["embed/" + name] = ce_rows;
      check["rerank/" + name] = sc;
    }
    for (const auto& r : runs) {
      out["skillmatch"][r.task][r.dtype] = r.tokens_per_s;
    }

    if (!baseline.empty()) {
      const std::string inputs = "bench-inputs.json", result = "bench-baseline.json";
      nlohmann::json in = {{"embed", embed_ids},
                           {"rerank", rerank_ids},
                           {"check_count", check_count},
                           {"baseline_output", result}};
      write_file_atomic(inputs, [&](std::FILE* f) { std::fputs(in.dump().c_str(), f); });
      const std::string cmd = "/usr/bin/python3 '" + baseline + "' --inputs " + inputs +
                              " --embedder '" + embedder + "' --reranker '" + reranker +
                              "' --dtypes " + dtypes + " --batch-size " +
                              std::to_string(batch_size) + " --threads " +
                              std::to_string(num_threads()) + " --repeat " + std::to_string(repeat);
      SM_CHECK(std::system(cmd.c_str()) == 0, ErrorKind::kIo,
               "the PyTorch baseline failed: " + cmd);
      const nlohmann::json b = nlohmann::json::parse(read_file(result));
      std::remove(inputs.c_str());
      std::remove(result.c_str());
      out["pytorch"]["version"] = b["torch"];
      std::printf("\n%-7s %-9s %14s %14s %8s   %s\n", "task", "dtype", "skillmatch", "pytorch",
                  "ratio", "max |diff| vs pytorch (first 8)");
      for (const auto& r : runs) {
        double py = 0;
        for (const auto& pr : b["runs"]) {
          if (pr["task"] == r.task && pr["dtype"] == r.dtype) py = pr["tokens_per_s"];
        }
        out["pytorch"][r.task][r.dtype] = py;
        const std::string key = r.task + "/" + r.dtype;
        double diff = 0;
        const auto& ours = check[key];
        const auto& theirs = b["check"][key];
        for (std::size_t i = 0; i < ours.size(); ++i) {
          if (r.task == "embed") {
            for (std::size_t k = 0; k < ours[i].size(); ++k) {
              diff =
                  std::max(diff, std::abs(ours[i][k].get<double>() - theirs[i][k].get<double>()));
            }
          } else {
            diff = std::max(diff, std::abs(ours[i].get<double>() - theirs[i].get<double>()));
          }
        }
        out["max_abs_diff"][key] = diff;
        std::printf("%-7s %-9s %14.1f %14.1f %7.2fx   %.2e\n", r.task.c_str(), r.dtype.c_str(),
                    r.tokens_per_s, py, r.tokens_per_s / py, diff);
      }
      // The aims: bf16 vs PyTorch bf16, and bf16 vs PyTorch float32.
      for (const char* task : {"embed", "rerank"}) {
        if (out["skillmatch"][task].contains("bfloat16") &&
            out["pytorch"][task].contains("float32") && out["pytorch"][task].contains("bfloat16")) {
          const double ours = out["skillmatch"][task]["bfloat16"];
          std::printf("%s: skillmatch bfloat16 = %.2fx PyTorch bfloat16, %.2fx PyTorch float32\n",
                      task, ours / out["pytorch"][task]["bfloat16"].get<double>(),
                      ours / out["pytorch"][task]["float32"].get<double>());
        }
      }
    }
    if (!json_out.empty()) {
      write_file_atomic(json_out, [&](std::FILE* f) { std::fputs(out.dump(2).c_str(), f); });
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "skillmatch_bench_engine: error: %s\n", e.what());
    return exit_code(e.kind());
  }
  return 0;
}
