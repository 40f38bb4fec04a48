// Training throughput of `train embedder` (tokens per second of whole optimizer steps: forward,
// loss, backward, clipping, AdamW) for mnrl and cached-mnrl in float32 and bfloat16, next to a
// PyTorch eager baseline doing the same steps in the same run (bench/pytorch_train_baseline.py),
// and the peak memory of cached-mnrl at a large batch on both sides.
//
//   skillmatch_bench_train --embedder DIR --skills skills_de_v1.1.0_enriched.csv
//                          --baseline bench/pytorch_train_baseline.py
//
// Data: ESCO skills as (anchor "query: <description>", positive "passage: <label>"). Each
// configuration runs in a process of its own (so that its peak memory is its own) for --steps + 1
// optimizer steps; the first is a warm-up and not timed. Tokens are counted without padding.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "skillmatch/core/csv.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/model/model_folder.h"
#include "skillmatch/model/runtime.h"
#include "skillmatch/train/trainer.h"

using namespace skillmatch;
namespace fs = std::filesystem;

namespace {

struct Pair {
  std::string anchor, positive;
};

std::vector<Pair> read_pairs(const fs::path& csv, std::size_t n) {
  CsvReader r(csv);
  const std::size_t label = r.require_column("preferredLabel_de");
  const std::size_t desc = r.require_column("description_de");
  std::vector<Pair> out;
  std::vector<std::string> f;
  while (out.size() < n && r.next(f)) {
    if (!f[desc].empty() && !f[label].empty()) out.push_back({f[desc], f[label]});
  }
  SM_CHECK(out.size() == n, ErrorKind::kInvalidArgument,
           csv.string() + " has fewer than " + std::to_string(n) + " skills with descriptions");
  return out;
}

// One configuration in this process: prints one JSON line.
int run_one(const std::string& embedder, const fs::path& skills, const std::string& loss,
            const std::string& dtype, std::size_t batch, std::size_t steps, std::size_t mini,
            const fs::path& out) {
  const std::vector<Pair> pairs = read_pairs(skills, batch * (steps + 1));
  std::vector<TrainExample> data;
  for (const Pair& p : pairs) {
    TrainExample e;
    e.query = {p.anchor, false};
    e.positives = {{p.positive, false}};
    data.push_back(std::move(e));
  }
  EmbedderTrainSettings s;
  s.loss = loss == "mnrl" ? EmbedderLoss::kMnrl : EmbedderLoss::kCachedMnrl;
  s.mini_batch = mini;
  s.train.batch_size = batch;
  s.train.bf16 = dtype == "bfloat16";
  s.train.max_steps = steps + 1;
  s.train.save_steps = 1u << 30;
  s.train.out = out;
  const TrainReport r = train_embedder(ModelFolder::read(embedder), data, s);
  nlohmann::json j = {{"impl", "skillmatch"},
                      {"loss", loss},
                      {"dtype", dtype},
                      {"batch", batch},
                      {"tokens_per_s", r.tokens_per_second},
                      {"peak_rss_bytes", r.peak_rss_bytes},
                      {"threads", num_threads()}};
  std::cout << j.dump() << std::endl;
  return 0;
}

std::vector<nlohmann::json> run_lines(const std::string& cmd) {
  std::vector<nlohmann::json> out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  SM_CHECK(p != nullptr, ErrorKind::kIo, "cannot run " + cmd);
  char buf[1 << 16];
  while (std::fgets(buf, sizeof buf, p.get())) {
    const std::string line(buf);
    if (!line.empty() && line[0] == '{') out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::string q(const std::string& s) {
  return "'" + s + "'";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"skillmatch training benchmark"};
  std::string embedder, skills, baseline, json_out, losses = "mnrl,cached-mnrl",
                                                    dtypes = "float32,bfloat16", one, out_dir;
  std::size_t batch = 32, steps = 3, mini = 32, memory_batch = 128;
  int threads = 0;
  app.add_option("--embedder", embedder, "e5-base-shaped bi-encoder folder")->required();
  app.add_option("--skills", skills, "ESCO skills_de_v1.1.0_enriched.csv")->required();
  app.add_option("--baseline", baseline, "bench/pytorch_train_baseline.py (none: skip)");
  app.add_option("--losses", losses)->capture_default_str();
  app.add_option("--dtypes", dtypes)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--steps", steps, "timed steps after one warm-up step")->capture_default_str();
  app.add_option("--mini-batch", mini)->capture_default_str();
  app.add_option("--memory-batch", memory_batch, "cached-mnrl batch of the memory run (0: none)")
      ->capture_default_str();
  app.add_option("--threads", threads, "compute threads (default: all cores)");
  app.add_option("--json", json_out, "write all results here");
  app.add_option("--out", out_dir, "scratch folder (default: a temporary one)");
  app.add_option("--one", one, "internal: LOSS,DTYPE,BATCH in this process");
  CLI11_PARSE(app, argc, argv);
  try {
    set_num_threads(threads);
    const fs::path scratch =
        out_dir.empty()
            ? fs::temp_directory_path() / ("skillmatch-train-bench-" + std::to_string(::getpid()))
            : fs::path(out_dir);
    fs::create_directories(scratch);
    if (!one.empty()) {
      std::stringstream ss(one);
      std::string loss, dtype, b;
      std::getline(ss, loss, ',');
      std::getline(ss, dtype, ',');
      std::getline(ss, b, ',');
      return run_one(embedder, skills, loss, dtype, std::stoul(b), steps, mini,
                     scratch / ("model-" + loss + "-" + dtype));
    }
    // The baseline's inputs: the same ids, batch by batch.
    auto dump = [&](std::size_t b, std::size_t n_steps) {
      const ModelFolder mf = ModelFolder::read(embedder);
      const Tokenizer tok = mf.load_tokenizer();
      const std::size_t max_len = mf.sentence_transformers().max_seq_length
                                      ? mf.sentence_transformers().max_seq_length
                                      : mf.tokenizer_max_length();
      const std::vector<Pair> pairs = read_pairs(skills, b * (n_steps + 1));
      nlohmann::json steps_j = nlohmann::json::array();
      for (std::size_t s = 0; s <= n_steps; ++s) {
        nlohmann::json a = nlohmann::json::array(), p = nlohmann::json::array();
        for (std::size_t i = s * b; i < (s + 1) * b; ++i) {
          a.push_back(tok.encode("query: " + pairs[i].anchor, max_len));
          p.push_back(tok.encode("passage: " + pairs[i].positive, max_len));
        }
        steps_j.push_back({a, p});
      }
      const fs::path file = scratch / ("inputs-" + std::to_string(b) + ".json");
      std::ofstream(file) << nlohmann::json({{"steps", steps_j}}).dump();
      return file;
    };
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const std::string common = " --embedder " + q(embedder) + " --skills " + q(skills) +
                               " --steps " + std::to_string(steps) + " --mini-batch " +
                               std::to_string(mini) + " --out " + q(scratch.string()) +
                               (threads ? " --threads " + std::to_string(threads) : "");
    std::vector<nlohmann::json> results;
    auto report = [&](const nlohmann::json& j) {
      std::printf("%-10s %-11s %-8s batch %3zu  %8.1f tokens/s  peak %.2f GiB\n",
                  j["impl"].get<std::string>().c_str(), j["loss"].get<std::string>().c_str(),
                  j["dtype"].get<std::string>().c_str(), j["batch"].get<std::size_t>(),
                  j["tokens_per_s"].get<double>(),
                  double(j["peak_rss_bytes"].get<std::size_t>()) / double(1u << 30));
      std::fflush(stdout);
      results.push_back(j);
    };
    const fs::path inputs = dump(batch, steps);
    std::stringstream ls(losses);
    for (std::string loss; std::getline(ls, loss, ',');) {
      std::stringstream ds(dtypes);
      for (std::string dtype; std::getline(ds, dtype, ',');) {
        for (const auto& j : run_lines(self + common + " --one " + loss + "," + dtype + "," +
                                       std::to_string(batch))) {
          report(j);
        }
        if (baseline.empty()) continue;
        for (const auto& j :
             run_lines("/usr/bin/python3 " + q(baseline) + " --inputs " + q(inputs.string()) +
                       " --embedder " + q(embedder) + " --losses " + loss + " --dtypes " + dtype +
                       " --mini-batch " + std::to_string(mini) + " --threads " +
                       std::to_string(threads ? threads : num_threads()))) {
          report(j);
        }
      }
    }
    if (memory_batch) {
      for (const auto& j : run_lines(self + common + " --one cached-mnrl,float32," +
                                     std::to_string(memory_batch))) {
        report(j);
      }
      if (!baseline.empty()) {
        const fs::path mem_inputs = dump(memory_batch, steps);
        for (const auto& j :
             run_lines("/usr/bin/python3 " + q(baseline) + " --inputs " + q(mem_inputs.string()) +
                       " --embedder " + q(embedder) + " --losses cached-mnrl --dtypes float32" +
                       " --mini-batch " + std::to_string(mini) + " --threads " +
                       std::to_string(threads ? threads : num_threads()))) {
          report(j);
        }
      }
    }
    if (!json_out.empty()) std::ofstream(json_out) << nlohmann::json(results).dump(1) << "\n";
    if (out_dir.empty()) fs::remove_all(scratch);
  } catch (const Error& e) {
    std::cerr << "skillmatch_bench_train: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
