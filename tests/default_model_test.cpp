// The built-in embedder (data/models/skillmatch-esco-small): Python's libraries read the shipped
// folder to skillmatch's numbers, the README's evaluation table is what `eval` gives (recomputed
// from the run files by an independent script), and the recipe that made it runs end to end.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "skillmatch/engine.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::json_lines;
using test::Result;
using test::run;

int shell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const fs::path& model() {
  static const fs::path m = default_embedder(SKILLMATCH_SOURCE_DIR "/data");
  return m;
}

TEST(DefaultModel, IsShippedWithItsCardAndSkillVectors) {
  ASSERT_FALSE(model().empty()) << "data/models/" << kDefaultEmbedderName << " is missing";
  EXPECT_TRUE(fs::exists(model() / "README.md"));
  EXPECT_TRUE(fs::exists(model() / "skill-vectors.bin"));
  const Result info = run({"info", "--model", model().string()});
  ASSERT_EQ(info.rc, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["layers"], 0);
  EXPECT_EQ(j["max_seq_length"], 512);
  EXPECT_EQ(j["normalize"], true);
}

// The float64 reference of the fixture generator reads the shipped folder as
// sentence-transformers does (SentencePiece, safetensors, pooling and Normalize from the
// folder's files) and gets the embeddings skillmatch gives.
TEST(DefaultModel, TheFloat64ReferenceReadsTheShippedFolder) {
  ASSERT_FALSE(model().empty());
  const std::vector<std::string> texts = {
      "Python für Einsteiger: Variablen, Schleifen, Funktionen",
      "SHOP FURNITURE TECH",
      "Grundlagen der Buchhaltung: doppelte Buchführung, Kontenrahmen und Jahresabschluss",
      "manage musical staff",
      "Ärztliche Fachangestellte (m/w/d) – Praxis für Allgemeinmedizin",
  };
  EXPECT_EQ(test::check_with_float64_reference(model(), texts, "shipped"), "");
}

// The numbers of the README's row "| SET | CONFIG | a | b | ... |", empty if there is none.
std::vector<double> readme_row(const std::string& readme, const std::string& set,
                               const std::string& config) {
  const std::string head = "| " + set + " | " + config + " |";
  const std::size_t at = readme.find(head);
  if (at == std::string::npos) return {};
  std::istringstream cells(
      readme.substr(at + head.size(), readme.find('\n', at) - at - head.size()));
  std::vector<double> out;
  for (std::string cell; std::getline(cells, cell, '|');) {
    if (cell.find_first_not_of(' ') != std::string::npos) out.push_back(std::stod(cell));
  }
  return out;
}

// Every number of the README's evaluation table of the built-in model is what
// scripts/default_model/evaluate.sh gives now (to the 4 decimals shown, give or take 0.0015 for
// another CPU's float summation order), and the independent script recomputes each from the TREC
// run files (evaluate.sh runs tests/tools/check_eval_run.py).
TEST(DefaultModel, TheReadmeTableIsWhatEvalGives) {
  ASSERT_FALSE(model().empty());
  test::TempDir dir;
  const std::string cmd =
      test::quote(std::string(SKILLMATCH_SOURCE_DIR) + "/scripts/default_model/evaluate.sh") + " " +
      test::quote(model().string()) + " " + test::quote(dir.path().string()) + " " +
      test::quote(SKILLMATCH_CLI) + " > " + test::quote((dir / "log").string()) + " 2>&1";
  ASSERT_EQ(shell(cmd), 0) << test::slurp(dir / "log");
  const std::string readme = test::slurp(fs::path(SKILLMATCH_SOURCE_DIR) / "README.md");
  for (const std::string set : {"wdb-courses-de", "esco-en-altlabels", "techwolf-jobs-en"}) {
    const auto m = test::load_json(dir / set / "metrics.json");
    for (const auto& c : m["configurations"]) {
      const auto& v = c["metrics"];
      const std::vector<double> want = {v["accuracy@1"], v["accuracy@10"], v["recall@10"],
                                        v["mrr@10"], v["ndcg@10"]};
      const std::vector<double> row = readme_row(readme, set, c["name"]);
      ASSERT_EQ(row.size(), want.size()) << "README row for " << set << " " << c["name"];
      for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_NEAR(row[i], want[i], 0.0015) << set << " " << c["name"] << " column " << i;
      }
    }
  }
}

// The recipe runs every step (pairs, vocabulary, training, skill vectors) on a small slice and
// leaves a folder that loads and embeds.
TEST(DefaultModel, TheRecipeRunsEndToEnd) {
  if (shell(std::string(SKILLMATCH_SYSTEM_PYTHON) + " -c 'import sentencepiece' 2>/dev/null") !=
      0) {
    GTEST_SKIP() << "the recipe needs python3-sentencepiece (scripts/install.sh installs it)";
  }
  test::TempDir dir;
  const std::string cmd =
      "SKILLMATCH=" + test::quote(SKILLMATCH_CLI) +
      " PYTHON=" + test::quote(SKILLMATCH_SYSTEM_PYTHON) + " " +
      test::quote(std::string(SKILLMATCH_SOURCE_DIR) + "/scripts/train_default_model.sh") + " " +
      test::quote((dir / "out").string()) + " --smoke > " + test::quote((dir / "log").string()) +
      " 2>&1";
  ASSERT_EQ(shell(cmd), 0) << test::slurp(dir / "log");
  EXPECT_TRUE(fs::exists(dir / "out" / kDefaultEmbedderName / "skill-vectors.bin"));
  const Result emb = run({"embed", "-m", (dir / "out" / kDefaultEmbedderName).string()},
                         "{\"text\": \"Buchhaltung\"}\n");
  ASSERT_EQ(emb.rc, 0) << emb.err;
  EXPECT_EQ(json_lines(emb.out).at(0)["embedding"].size(), 256u);
}

}  // namespace
}  // namespace skillmatch
