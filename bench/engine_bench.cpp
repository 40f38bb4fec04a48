// Throughput of the engine (tokens per second for embed and rerank, float32, bfloat16 and int8)
// as a fraction of this machine's own limit (the rate of the model's matrix products at the
// batch's token count, measured first: matmul_limit.h), next to a PyTorch eager baseline
// (bench/pytorch_baseline.py) and an ONNX Runtime baseline (bench/onnx_baseline.py) run on the
// same ids in the same run; and how far bfloat16 and int8 move the results from float32.
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
#include <map>

#include "matmul_limit.h"
#include "skillmatch/core/cpu.h"
#include "skillmatch/core/csv.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/core/matrix.h"
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

// Resident memory of this process now (/proc/self/statm), in bytes.
double resident_bytes() {
  std::ifstream f("/proc/self/statm");
  double pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * 4096.0;
}

// Runs a baseline script (same protocol for PyTorch and ONNX Runtime: the ids in `inputs`, one
// JSON object with "runs" and "check" written to `output`) and returns its result.
nlohmann::json run_baseline(const std::string& script, const std::string& inputs,
                            const std::string& output, const std::string& args) {
  const std::string cmd =
      "/usr/bin/python3 '" + script + "' --inputs " + inputs + " --output " + output + args;
  SM_CHECK(std::system(cmd.c_str()) == 0, ErrorKind::kIo, "a baseline failed: " + cmd);
  nlohmann::json b = nlohmann::json::parse(read_file(output));
  std::remove(output.c_str());
  return b;
}

double baseline_rate(const nlohmann::json& b, const std::string& task, const std::string& dtype) {
  if (!b.contains("runs")) return 0;
  for (const auto& r : b["runs"]) {
    if (r["task"] == task && r["dtype"] == dtype) return r["tokens_per_s"].get<double>();
  }
  return 0;
}

// The k nearest other rows of row q (by dot product; rows are normalised).
std::vector<std::size_t> nearest(const Matrix& m, std::size_t q, std::size_t k) {
  std::vector<std::pair<double, std::size_t>> s;
  for (std::size_t i = 0; i < m.rows; ++i) {
    if (i != q) s.push_back({-dot_double(m.row(q), m.row(i), m.cols), i});
  }
  std::partial_sort(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(std::min(k, s.size())),
                    s.end());
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < std::min(k, s.size()); ++i) out.push_back(s[i].second);
  std::sort(out.begin(), out.end());
  return out;
}

// How far a lower-precision run moves the results from float32: the worst cosine of an embedding
// to its float32 one; the mean overlap of each passage's 10 nearest passages (retrieval over the
// sample); the share of rerank score pairs in the same order (Kendall's concordance) and the
// largest score difference.
nlohmann::json agreement(const Matrix& e32, const Matrix& e, const std::vector<float>& s32,
                         const std::vector<float>& s) {
  double worst = 1, overlap = 0;
  for (std::size_t i = 0; i < e.rows; ++i)
    worst = std::min(worst, cosine_double(e32.row(i), e.row(i), e.cols));
  const std::size_t k = 10;
  for (std::size_t q = 0; q < e.rows; ++q) {
    const auto a = nearest(e32, q, k), b = nearest(e, q, k);
    std::vector<std::size_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    overlap += double(both.size()) / double(k);
  }
  std::size_t concordant = 0, pairs = 0;
  double max_diff = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    max_diff = std::max(max_diff, double(std::abs(s[i] - s32[i])));
    for (std::size_t j = i + 1; j < s.size(); ++j) {
      if (s32[i] == s32[j]) continue;
      ++pairs;
      concordant += (s32[i] < s32[j]) == (s[i] < s[j]);
    }
  }
  return {{"worst_cosine", worst},
          {"top10_overlap", overlap / double(e.rows)},
          {"rerank_concordance", pairs ? double(concordant) / double(pairs) : 1.0},
          {"rerank_max_abs_diff", max_diff}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"skillmatch engine benchmark"};
  std::string embedder, reranker, skills, baseline, onnx_baseline, json_out,
      dtypes = cpu_has_int8_dot() ? "float32,bfloat16,int8" : "float32,bfloat16";
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
  app.add_option("--onnx-baseline", onnx_baseline, "path of onnx_baseline.py; empty to skip");
  std::string cli;
  std::size_t cli_count = 500;
  app.add_option("--cli", cli,
                 "the skillmatch program: also time `skillmatch embed` of --cli-count passages, "
                 "start and load included, per dtype");
  app.add_option("--cli-count", cli_count)->capture_default_str();
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
    std::map<std::string, Matrix> embeddings;
    std::map<std::string, std::vector<float>> all_scores;
    std::vector<std::string> dtype_names;
    std::stringstream ds(dtypes);
    for (std::string name; std::getline(ds, name, ',');) {
      dtype_names.push_back(name);
      opt.dtype = parse_dtype(name);
      // The first load converts and writes the weight cache (if it is not there yet); the timed
      // second one is what every later process pays.
      BiEncoder::load(embedder, opt);
      CrossEncoder::load(reranker, opt);
      const auto load_start = Clock::now();
      const BiEncoder e = BiEncoder::load(embedder, opt);
      const CrossEncoder c = CrossEncoder::load(reranker, opt);
      const double load_s = seconds_since(load_start);
      out["load_seconds"][name] = load_s;
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
      const double rss = resident_bytes();
      out["resident_bytes"][name] = rss;
      std::printf(
          "%s: both models load in %.2f s (weight cache), %.0f MiB resident after the runs\n",
          name.c_str(), load_s, rss / (1 << 20));
      embeddings[name] = std::move(m);
      all_scores[name] = std::move(scores);
    }
    for (const auto& r : runs) {
      out["skillmatch"][r.task][r.dtype] = r.tokens_per_s;
    }
    if (embeddings.count("float32")) {
      for (const std::string& name : dtype_names) {
        if (name == "float32") continue;
        const nlohmann::json a = agreement(embeddings["float32"], embeddings[name],
                                           all_scores["float32"], all_scores[name]);
        out["agreement_with_float32"][name] = a;
        std::printf(
            "%s vs float32: worst cosine %.5f, top-10 overlap %.3f, rerank order "
            "concordance %.4f, max |score diff| %.3g\n",
            name.c_str(), a["worst_cosine"].get<double>(), a["top10_overlap"].get<double>(),
            a["rerank_concordance"].get<double>(), a["rerank_max_abs_diff"].get<double>());
      }
    }

    // The limit: the matrix products of the model's linear layers at the token count of a
    // typical batch of each task (batch size x mean tokens per input), this machine, this run.
    const nlohmann::json config = nlohmann::json::parse(read_file(embedder + "/config.json"));
    const std::int64_t hidden = config.at("hidden_size").get<std::int64_t>();
    const std::int64_t inter = config.at("intermediate_size").get<std::int64_t>();
    const std::int64_t layers = config.at("num_hidden_layers").get<std::int64_t>();
    const double flops_per_token = bench::linear_flops_per_token(hidden, inter, layers);
    const std::map<std::string, std::int64_t> batch_tokens = {
        {"embed", std::int64_t(batch_size * embed_tokens / embed_ids.size())},
        {"rerank", std::int64_t(batch_size * rerank_tokens / rerank_ids.size())}};
    std::map<std::string, double> limit;  // "task/dtype" -> tokens/s
    for (const std::string& name : dtype_names) {
      for (const auto& [task, m] : batch_tokens) {
        const bench::MatmulRate rate =
            bench::measure_matmul_rate(name, m, hidden, inter, std::max(3, repeat));
        limit[task + "/" + name] = rate.gflops * 1e9 / flops_per_token;
        out["limit"][task][name] = {{"matmul_gflops", rate.gflops},
                                    {"by", rate.how},
                                    {"batch_tokens", m},
                                    {"tokens_per_s", limit[task + "/" + name]}};
        std::printf("limit %-6s %-8s %7.0f GFLOP/s (%s, %lld tokens) = %9.1f tokens/s\n",
                    task.c_str(), name.c_str(), rate.gflops, rate.how.c_str(),
                    static_cast<long long>(m), limit[task + "/" + name]);
      }
    }
    std::fflush(stdout);

    // A plain `skillmatch embed` of --cli-count passages, process start and model load included
    // (the weight cache is warm: the loads above wrote it), against the embed limit.
    if (!cli.empty()) {
      std::vector<std::string> texts;
      for (std::size_t i = 0; texts.size() < cli_count; i = (i + step) % labels.size()) {
        texts.push_back("passage: " + labels[i] + ": " + descriptions[i]);
      }
      const std::size_t tokens = count_tokens(enc.tokenize(texts));
      const std::string file = "bench-cli-passages.jsonl";
      write_file_atomic(file, [&](std::FILE* f) {
        for (const auto& t : texts)
          std::fprintf(f, "%s\n", nlohmann::json{{"text", t}}.dump().c_str());
      });
      for (const std::string& name : dtype_names) {
        const std::string cmd = "'" + cli + "' embed --model '" + embedder +
                                "' --prompt none --dtype " + name + " --batch-size " +
                                std::to_string(batch_size) + " < " + file + " > /dev/null";
        double best = 1e300;
        for (int r = 0; r < std::max(1, repeat); ++r) {
          const auto t = Clock::now();
          SM_CHECK(std::system(cmd.c_str()) == 0, ErrorKind::kIo, "failed: " + cmd);
          best = std::min(best, seconds_since(t));
        }
        const double rate = double(tokens) / best, lim = limit["embed/" + name];
        out["cli_embed"][name] = {{"texts", texts.size()},
                                  {"tokens", tokens},
                                  {"seconds", best},
                                  {"tokens_per_s", rate},
                                  {"fraction_of_limit", lim > 0 ? rate / lim : 0}};
        std::printf(
            "skillmatch embed CLI, %zu passages (%zu tokens), %s: %.2f s = %.1f tokens/s, "
            "%.0f%% of the limit\n",
            texts.size(), tokens, name.c_str(), best, rate, lim > 0 ? 100 * rate / lim : 0);
      }
      std::remove(file.c_str());
      std::fflush(stdout);
    }

    nlohmann::json torch_b, onnx_b;
    if (!baseline.empty() || !onnx_baseline.empty()) {
      const std::string inputs = "bench-inputs.json";
      nlohmann::json in = {
          {"embed", embed_ids}, {"rerank", rerank_ids}, {"check_count", check_count}};
      write_file_atomic(inputs, [&](std::FILE* f) { std::fputs(in.dump().c_str(), f); });
      std::string float_types;
      for (const std::string& name : dtype_names) {
        if (name == "int8") continue;  // neither baseline has our int8 scheme
        float_types += (float_types.empty() ? "" : ",") + name;
      }
      const std::string common = " --embedder '" + embedder + "' --reranker '" + reranker +
                                 "' --batch-size " + std::to_string(batch_size) + " --threads " +
                                 std::to_string(num_threads()) + " --repeat " +
                                 std::to_string(repeat);
      if (!baseline.empty()) {
        torch_b = run_baseline(baseline, inputs, "bench-pytorch.json",
                               common + " --dtypes " + float_types);
        out["pytorch"]["version"] = torch_b["torch"];
      }
      if (!onnx_baseline.empty()) {
        onnx_b =
            run_baseline(onnx_baseline, inputs, "bench-onnx.json", common + " --dtypes float32");
        out["onnxruntime"]["version"] = onnx_b.value("onnxruntime", "");
      }
      std::remove(inputs.c_str());
    }

    std::printf("\n%-7s %-9s %11s %11s %7s %11s %7s %11s %7s   %s\n", "task", "dtype", "skillmatch",
                "limit", "of lim", "pytorch", "ratio", "onnxrt f32", "ratio",
                "max |diff| vs pytorch (first 8)");
    for (const auto& r : runs) {
      const std::string key = r.task + "/" + r.dtype;
      const double lim = limit[key];
      const double py = baseline_rate(torch_b, r.task, r.dtype);
      const double ort = baseline_rate(onnx_b, r.task, "float32");
      out["fraction_of_limit"][r.task][r.dtype] = lim > 0 ? r.tokens_per_s / lim : 0;
      if (py > 0) out["pytorch"][r.task][r.dtype] = py;
      if (ort > 0) out["onnxruntime"][r.task]["float32"] = ort;
      double diff = -1;
      if (!torch_b.is_null() && torch_b["check"].contains(key)) {
        diff = 0;
        const auto& ours = check[key];
        const auto& theirs = torch_b["check"][key];
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
      }
      auto cell = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, v > 0 ? "%.1f" : "-", v);
        return std::string(buf);
      };
      auto ratio = [](double a, double b) {
        char buf[32];
        std::snprintf(buf, sizeof buf, b > 0 ? "%.2fx" : "-", a / b);
        return std::string(buf);
      };
      std::printf("%-7s %-9s %11.1f %11.1f %6.0f%% %11s %7s %11s %7s   %s\n", r.task.c_str(),
                  r.dtype.c_str(), r.tokens_per_s, lim, lim > 0 ? 100 * r.tokens_per_s / lim : 0,
                  cell(py).c_str(), ratio(r.tokens_per_s, py).c_str(), cell(ort).c_str(),
                  ratio(r.tokens_per_s, ort).c_str(),
                  diff >= 0 ? (std::to_string(diff).substr(0, 8)).c_str() : "-");
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
