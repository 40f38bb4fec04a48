// `train embedder`, `train reranker` and `mine-negatives` run as a user runs them: the written
// folders load here and in the float64 reference, a killed run resumes to the same weights, data
// mistakes name file and line, mining keeps positives out, and training lifts held-out MRR@10.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include "cli_run.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::fixtures;

struct CliRun {
  int rc = -1;
  std::string out, err;
};

std::string command(const std::vector<std::string>& args, const fs::path& dir) {
  std::string cmd = "exec " + test::quote(SKILLMATCH_CLI);
  for (const auto& a : args) cmd += " " + test::quote(a);
  return cmd + " < /dev/null > " + test::quote((dir / "out").string()) + " 2> " +
         test::quote((dir / "err").string());
}

pid_t start(const std::vector<std::string>& args, const fs::path& dir) {
  const std::string cmd = command(args, dir);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

CliRun finish(pid_t pid, const fs::path& dir) {
  CliRun r;
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = test::slurp(dir / "out");
  r.err = test::slurp(dir / "err");
  return r;
}

CliRun run(const std::vector<std::string>& args) {
  test::TempDir dir;
  return finish(start(args, dir.path()), dir.path());
}

// The sets of scripts/make_train_sets.py --small (German ESCO descriptions -> labels, 4,000 for
// training, 200 held out, a 1,000-skill taxonomy), made once per test process.
fs::path train_data(const std::string& name) {
  static test::TempDir dir;
  static const bool made = [] {
    const std::string cmd = std::string(SKILLMATCH_PYTHON) + " " + SKILLMATCH_SHIPPED_DATA +
                            "/../scripts/make_train_sets.py --data " + SKILLMATCH_SHIPPED_DATA +
                            " --small 4000,200,1000 --out " + test::quote(dir.path().string()) +
                            " > /dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  EXPECT_TRUE(made);
  return dir / name;
}

// MRR@10 of one configuration of `skillmatch eval --json`.
double mrr10(const std::vector<std::string>& args) {
  std::vector<std::string> a = {"eval"};
  a.insert(a.end(), args.begin(), args.end());
  a.push_back("--json");
  const CliRun r = run(a);
  EXPECT_EQ(r.rc, 0) << r.err;
  if (r.rc != 0) return -1;
  return nlohmann::json::parse(r.out)["configurations"][0]["metrics"]["mrr@10"].get<double>();
}

const std::vector<std::string> kTexts = {"Excel für Fortgeschrittene: Pivot-Tabellen und Makros",
                                         "Grundlagen der Buchhaltung", "Schafe scheren"};

TEST(TrainCli, TrainsAnEmbedderWhoseFolderLoadsEverywhere) {
  test::TempDir dir;
  const CliRun r = run({"train",        "embedder",
                        "-w",           (dir / "ws").string(),
                        "--base",       (fixtures() / "embedder-cls").string(),
                        "--train",      train_data("esco-de-desc2label-train.jsonl").string(),
                        "--out",        (dir / "model").string(),
                        "--max-steps",  "3",
                        "--log-steps",  "1",
                        "--batch-size", "8",
                        "--lr",         "1e-4",
                        "--dtype",      "bfloat16"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("step 1/3  epoch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tokens/s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("wrote " + (dir / "model").string()), std::string::npos) << r.err;
  for (const char* f :
       {"config.json", "model.safetensors", "sentencepiece.bpe.model", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "modules.json", "1_Pooling/config.json",
        "sentence_bert_config.json", "config_sentence_transformers.json"}) {
    EXPECT_TRUE(fs::exists(dir / "model" / f)) << f;
  }
  EXPECT_FALSE(fs::exists(dir / "model.run"));
  const auto st = test::load_json(dir / "model" / "config_sentence_transformers.json");
  EXPECT_EQ(st["prompts"]["query"], "query: ");
  EXPECT_EQ(st["prompts"]["passage"], "passage: ");

  // The float64 reference of the fixture generator reads the folder as Python users' libraries
  // do and gets skillmatch's embeddings.
  EXPECT_EQ(test::check_with_float64_reference(dir / "model", kTexts, "trained"), "");
}

TEST(TrainCli, AKilledRunResumesToTheSameWeights) {
  test::TempDir dir;
  const std::vector<std::string> args = {
      "train",        "embedder",
      "-w",           (dir / "ws").string(),
      "--base",       (fixtures() / "embedder-mean").string(),
      "--train",      train_data("esco-de-desc2label-train.jsonl").string(),
      "--batch-size", "8",
      "--epochs",     "2",
      "--max-steps",  "40",
      "--save-steps", "3",
      "--lr",         "1e-3",
      "--negatives",  "1"};
  auto with_out = [&](const std::string& out) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--out", (dir / out).string()});
    return a;
  };
  const CliRun whole = run(with_out("whole"));
  ASSERT_EQ(whole.rc, 0) << whole.err;

  // Killed (SIGKILL) after its first checkpoints, then resumed.
  test::TempDir io;
  const pid_t pid = start(with_out("resumed"), io.path());
  const fs::path state = dir / "resumed.run" / "checkpoint" / "state.json";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool killed = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(state)) {
      try {
        if (test::load_json(state)["step"].get<int>() >= 6) {
          ::kill(pid, SIGKILL);
          killed = true;
          break;
        }
      } catch (const std::exception&) {
        // being replaced
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const CliRun first = finish(pid, io.path());
  ASSERT_TRUE(killed) << first.err;
  EXPECT_EQ(first.rc, 128 + SIGKILL);
  EXPECT_FALSE(fs::exists(dir / "resumed"));  // no half folder

  // Without --resume the checkpoint is not overwritten; a resume with other settings is refused.
  const CliRun again = run(with_out("resumed"));
  EXPECT_EQ(again.rc, 2);
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  std::vector<std::string> resume = with_out("resumed");
  resume.push_back("--resume");
  std::vector<std::string> other = resume;
  other.insert(other.end(), {"--warmup-ratio", "0.2"});
  const CliRun refused = run(other);
  EXPECT_EQ(refused.rc, 2);
  EXPECT_NE(refused.err.find("other settings"), std::string::npos) << refused.err;
  const CliRun second = run(resume);
  ASSERT_EQ(second.rc, 0) << second.err;
  EXPECT_NE(second.err.find("resuming"), std::string::npos) << second.err;
  EXPECT_EQ(test::slurp(dir / "whole" / "model.safetensors"),
            test::slurp(dir / "resumed" / "model.safetensors"));
}

TEST(TrainCli, DataMistakesNameFileAndLine) {
  test::TempDir dir;
  auto train = [&](const std::string& kind, const std::string& data,
                   const std::vector<std::string>& extra = {}) {
    test::spit(dir / "d.jsonl", data);
    std::vector<std::string> a = {
        "train",   kind,
        "-w",      (dir / "ws").string(),
        "--base",  (fixtures() / (kind == "embedder" ? "embedder-cls" : "reranker")).string(),
        "--train", (dir / "d.jsonl").string(),
        "--out",   (dir / "m").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run(a);
  };
  const std::string ok = "{\"query\": \"Buchhaltung\", \"pos\": [\"Buchführung\"]}\n";
  CliRun r = train("embedder", ok + "{\"query\": \"x\", \"pos\": [\"y\"]\n");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("d.jsonl line 2: invalid JSON"), std::string::npos) << r.err;
  r = train("embedder", ok + ok +
                            "{\"anchor\": \"x\", \"positive\": "
                            "\"http://data.europa.eu/esco/skill/does-not-exist\"}\n");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("d.jsonl line 3: unresolvable positive"), std::string::npos) << r.err;
  r = train("reranker", ok);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("d.jsonl line 1: empty group"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "m"));
  // A skill URI resolves in the workspace and trains.
  r = train("reranker",
            "{\"query\": \"Buchhaltung\", \"pos\": "
            "[\"http://data.europa.eu/esco/skill/2ff405ec-f59c-4a7b-84b6-9776a49582c4\"], "
            "\"neg\": [\"Schafe scheren\"]}\n",
            {"--max-steps", "1"});
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST(TrainCli, MinesNegativesOutsideThePositives) {
  test::TempDir dir;
  test::spit(dir / "in.jsonl",
             "{\"query\": \"Buchführung und Jahresabschluss\", \"pos\": [\"Buchführung\"]}\n"
             "{\"anchor\": \"Schafe scheren und Wolle verarbeiten\", \"positive\": "
             "\"http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab\"}\n");
  for (const bool dense : {false, true}) {
    std::vector<std::string> a = {"mine-negatives",
                                  "-w",
                                  (dir / "ws").string(),
                                  "--input",
                                  (dir / "in.jsonl").string(),
                                  "--out",
                                  (dir / "out.jsonl").string(),
                                  "--range-min",
                                  "2",
                                  "--range-max",
                                  "40",
                                  "--negatives",
                                  "5"};
    if (dense) {
      a.insert(a.end(), {"--embedder", (fixtures() / "embedder-cls").string(), "--relative-margin",
                         "0.05", "--sampling", "top"});
    }
    const CliRun r = run(a);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_NE(r.err.find(dense ? "ranked by dense" : "ranked by BM25"), std::string::npos) << r.err;
    const auto rows = test::json_lines(test::slurp(dir / "out.jsonl"));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0]["query"], "Buchführung und Jahresabschluss");
    EXPECT_EQ(rows[0]["pos"][0], "Buchführung");
    EXPECT_GT(rows[0]["neg"].size(), 0u);
    for (const auto& n : rows[0]["neg"]) EXPECT_NE(n, "Buchführung");
    // URI positives get URI negatives.
    ASSERT_GT(rows[1]["neg"].size(), 0u);
    for (const auto& n : rows[1]["neg"]) {
      EXPECT_EQ(n.get<std::string>().rfind("http://data.europa.eu/esco/skill/", 0), 0u);
      EXPECT_NE(n, rows[1]["pos"][0]);
    }
  }
  const CliRun bad =
      run({"mine-negatives", "-w", (dir / "ws").string(), "--input", (dir / "in.jsonl").string(),
           "--out", (dir / "o.jsonl").string(), "--max-score", "0.9"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("need --embedder"), std::string::npos) << bad.err;
}

// The small version of docs/training.md's measurement: the fixture models trained on 4,000
// German ESCO descriptions -> labels (3 epochs; the reranker 125 steps of 16 groups of 4 on
// BM25-mined negatives), evaluated on 200 held-out skills among 1,000.
TEST(TrainCli, TrainingLiftsHeldOutMrr) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  const CliRun imported =
      run({"import", "custom", train_data("esco-de-desc2label-corpus.csv").string(), "--name",
           "small", "--description-column", "description", "-w", ws});
  ASSERT_EQ(imported.rc, 0) << imported.err;
  const std::string eval_set = train_data("esco-de-desc2label-eval.jsonl").string();
  auto dense = [&](const fs::path& model) {
    return mrr10({eval_set, "-w", ws, "--taxonomy", "small", "-c",
                  "mode=dense,template=passage: {label},dtype=float32,embedder=" + model.string()});
  };
  const double before = dense(fixtures() / "embedder-mean");
  const CliRun emb = run(
      {"train", "embedder", "-w", ws, "--base", (fixtures() / "embedder-mean").string(), "--train",
       train_data("esco-de-desc2label-train.jsonl").string(), "--out", (dir / "emb").string(),
       "--epochs", "3", "--lr", "5e-3", "--no-dropout", "--log-steps", "100"});
  ASSERT_EQ(emb.rc, 0) << emb.err;
  const double after = dense(dir / "emb");
  std::printf("embedder MRR@10 on 200 held-out skills: %.4f untrained, %.4f trained\n", before,
              after);
  EXPECT_GE(after - before, 0.03);

  // The reranker on BM25-mined negatives, reranking BM25's label-only candidates.
  const CliRun mined = run({"mine-negatives", "-w", ws, "--taxonomy", "small", "--input",
                            train_data("esco-de-desc2label-train.jsonl").string(), "--out",
                            (dir / "mined.jsonl").string(), "--negatives", "7"});
  ASSERT_EQ(mined.rc, 0) << mined.err;
  auto rerank = [&](const fs::path& model) {
    return mrr10({eval_set, "-w", ws, "--taxonomy", "small", "--depth", "30", "-c",
                  "mode=bm25,bm25-weights=1,0,0,dtype=float32,reranker=" + model.string()});
  };
  const double rr_before = rerank(fixtures() / "reranker");
  const CliRun rr = run({"train",
                         "reranker",
                         "-w",
                         ws,
                         "--base",
                         (fixtures() / "reranker").string(),
                         "--train",
                         (dir / "mined.jsonl").string(),
                         "--out",
                         (dir / "rr").string(),
                         "--group-size",
                         "4",
                         "--lr",
                         "1e-2",
                         "--batch-size",
                         "16",
                         "--max-steps",
                         "125",
                         "--no-dropout",
                         "--log-steps",
                         "100",
                         "--eval",
                         eval_set,
                         "--taxonomy",
                         "small",
                         "--eval-retrieval",
                         "mode=bm25,bm25-weights=1,0,0",
                         "--eval-depth",
                         "30",
                         "--eval-steps",
                         "125"});
  ASSERT_EQ(rr.rc, 0) << rr.err;
  const double rr_after = rerank(dir / "rr");
  // The evaluation during training ranks as `eval` does with the saved (best) model.
  const std::regex eval_line("eval step [0-9]+:.* mrr@10 ([0-9.]+)");
  double best_seen = -1;
  for (auto it = std::sregex_iterator(rr.err.begin(), rr.err.end(), eval_line);
       it != std::sregex_iterator(); ++it) {
    best_seen = std::max(best_seen, std::stod((*it)[1]));
  }
  EXPECT_NEAR(best_seen, rr_after, 6e-5) << rr.err;
  std::printf("reranker MRR@10 on 200 held-out skills: %.4f untrained, %.4f trained\n", rr_before,
              rr_after);
  EXPECT_GE(rr_after - rr_before, 0.015);
}

}  // namespace
}  // namespace skillmatch
