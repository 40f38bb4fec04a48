// Every bad input refused the same way: the defects found by probing the CLI as a new user, each
// with its command, exit code and message, and the workspace unchanged afterwards.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "cli_run.h"
#include "skillmatch/catalog/workspace.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::fixtures;
using test::Result;
using test::run;

const std::string kShipped = SKILLMATCH_SHIPPED_DATA;
const std::string kEscoCsv = kShipped + "/esco-de-1.1.0/skills_de_v1.1.0_enriched.csv";

// What a workspace holds: taxonomies with their skill counts and the defaults marker.
std::string state(const fs::path& ws) {
  if (!fs::exists(ws / "skillmatch.db")) return "no workspace";
  Workspace w = Workspace::open(ws, false);
  std::string s;
  for (const auto& t : w.taxonomies()) {
    SkillFilter f;
    f.taxonomies = {t.name};
    s += t.name + "=" + std::to_string(w.skill_count(f)) + " ";
  }
  return s + "defaults=" + w.meta("defaults.state").value_or("-");
}

// Refused with `rc` and one error line (after any notes), containing each of `parts`.
void expect_refused(const Result& r, int rc, const std::vector<std::string>& parts) {
  EXPECT_EQ(r.rc, rc) << r.err;
  const auto error = r.err.find("skillmatch: error: ");
  EXPECT_NE(error, std::string::npos) << r.err;
  EXPECT_TRUE(error == 0 || r.err[error - 1] == '\n') << r.err;
  EXPECT_EQ(r.err.find('\n', error), r.err.size() - 1) << "one line, the last: " << r.err;
  for (const auto& p : parts) EXPECT_NE(r.err.find(p), std::string::npos) << r.err;
}

// A workspace with a small own taxonomy (no shipped data).
fs::path own_workspace(const test::TempDir& dir) {
  test::spit(dir / "own.csv",
             "uri,label,description,skill_type\n"
             "k1,Buchhaltung führen,Geschäftsvorfälle erfassen,skill/competence\n"
             "k2,Tabellenkalkulation verwenden,Mit Excel arbeiten,skill/competence\n"
             "k3,Python programmieren,Programme schreiben,knowledge\n");
  const fs::path ws = dir / "ws";
  EXPECT_EQ(
      run({"import", "custom", (dir / "own.csv").string(), "--name", "own", "-w", ws.string()}).rc,
      0);
  return ws;
}

// 1. One import is one transaction: every file is read before anything is written.
TEST(Hardening, FailedImportLeavesNothingBehind) {
  test::TempDir dir;
  const fs::path ws = dir / "ws";
  Result r = run({"import", "esco", kEscoCsv, "--collection", (dir / "missing.csv").string(), "-w",
                  ws.string()});
  expect_refused(r, 3, {"missing.csv"});
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(state(ws), "no workspace");
  // Into an existing workspace: unchanged.
  const fs::path own = own_workspace(dir);
  const std::string before = state(own);
  r = run({"import", "esco", kEscoCsv, "--collection", (dir / "missing.csv").string(), "-w",
           own.string()});
  EXPECT_EQ(r.rc, 3);
  EXPECT_EQ(state(own), before);
  // A broken hierarchy file fails the whole import too.
  test::spit(dir / "groups.csv", "conceptUri,preferredLabel,code\n");
  r = run({"import", "esco", kEscoCsv, "--hierarchy", (dir / "nope.csv").string(), "--groups",
           (dir / "groups.csv").string(), "-w", own.string()});
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_EQ(state(own), before);
}

// 2. Option errors: exit 2, one line with the prefix, naming the problem.
TEST(Hardening, OptionErrorsExitTwoWithOneLine) {
  test::TempDir dir;
  expect_refused(run({"frobnicate"}), 2, {"unknown command 'frobnicate'"});
  expect_refused(run({"match", "--frobnicate", "x"}), 2, {"--frobnicate"});
  expect_refused(run({"match", "--top", "abc", "x"}), 2,
                 {"--top: expected a whole number from 1 to 1000, got 'abc'"});
  expect_refused(run({"embed", "-m", (fixtures() / "embedder-cls").string(), "--batch-size", "0"}),
                 2, {"--batch-size: expected a whole number from 1 to 4096, got 0"});
  expect_refused(run({"index", "-w", (dir / "ws").string()}), 2, {"--embedder"});
  expect_refused(run({}), 2, {"subcommand"});
  for (const Result& r : {run({"frobnicate"}), run({"match", "--top", "abc", "x"})}) {
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "ws"));
}

// 3. Every number has a range: negative numbers, NaN and absurd values are refused.
TEST(Hardening, NumbersOutsideTheirRangeAreRefused) {
  test::TempDir dir;
  const fs::path ws = own_workspace(dir);
  const std::string w = ws.string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"match", "-w", w, "--top", "-1", "x"}, "--top"},
      {{"match", "-w", w, "--candidates", "0", "x"}, "--candidates"},
      {{"match", "-w", w, "--dense-weight", "nan", "x"}, "--dense-weight"},
      {{"match", "-w", w, "--dense-weight", "1.5", "x"}, "--dense-weight"},
      {{"match", "-w", w, "--threshold", "nan", "x"}, "--threshold"},
      {{"match", "-w", w, "--rrf-k", "-60", "x"}, "--rrf-k"},
      {{"match", "-w", w, "--ef-search", "0", "x"}, "--ef-search"},
      {{"match", "-w", w, "--bm25-weights", "3,-1,1", "x"}, "--bm25-weights"},
      {{"eval", kShipped + "/eval/wdb-courses-de.jsonl", "-w", w, "--mrr-at", "-1"}, "--mrr-at"},
      {{"eval", kShipped + "/eval/wdb-courses-de.jsonl", "-w", w, "-c", "dense-weight=7"},
       "dense-weight"},
      {{"eval", kShipped + "/eval/wdb-courses-de.jsonl", "-w", w, "-c", "rrf-k=nan"}, "rrf-k"},
      {{"--threads", "1024", "info", "-m", (fixtures() / "reranker").string()}, "--threads"},
      {{"--threads", "0", "info", "-m", (fixtures() / "reranker").string()}, "--threads"},
  };
  const std::string before = state(ws);
  for (const auto& [args, name] : bad) {
    const Result r = run(args);
    EXPECT_EQ(r.rc, 2) << args[0] << " " << name << ": " << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
  }
  EXPECT_EQ(state(ws), before);
}

// 4. An unknown taxonomy, collection or skill type is an error listing the known ones.
TEST(Hardening, UnknownFilterValuesListTheKnownOnes) {
  test::TempDir dir;
  const std::string w = own_workspace(dir).string();
  expect_refused(run({"match", "-w", w, "--taxonomy", "esco-xx", "Buchhaltung"}), 2,
                 {"no taxonomy 'esco-xx'", "own"});
  expect_refused(run({"match", "-w", w, "--collection", "green", "Buchhaltung"}), 2,
                 {"no collection 'green'", "none"});
  expect_refused(run({"match", "-w", w, "--skill-type", "wissen", "Buchhaltung"}), 2,
                 {"no skill type 'wissen'", "knowledge", "skill/competence"});
  expect_refused(run({"match", "-w", w, "--group", "S1", "Buchhaltung"}), 2,
                 {"no skill group 'S1'"});
}

// 5. Single and batch mode agree; -o and --input work in both.
TEST(Hardening, SingleAndBatchMatchAgreeOnInputAndOutput) {
  test::TempDir dir;
  const std::string w = own_workspace(dir).string();
  Result r = run(
      {"match", "-w", w, "--mode", "bm25", "-o", (dir / "out.txt").string(), "Buchhaltung lernen"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(test::slurp(dir / "out.txt").find("Buchhaltung führen"), std::string::npos);
  test::spit(dir / "course.txt", "Tabellenkalkulation mit Excel\n");
  r = run({"match", "-w", w, "--mode", "bm25", "--json", "--input", (dir / "course.txt").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Tabellenkalkulation verwenden"), std::string::npos);
  expect_refused(run({"match", "-w", w, "--jsonl", "Buchhaltung"}, "{\"text\":\"x\"}\n"), 2,
                 {"not as an argument"});
  expect_refused(run({"match", "-w", w, "--input", (dir / "course.txt").string(), "Buchhaltung"}),
                 2, {"not both"});
  // White space only and more than 1 MiB: refused alike, as an argument and in JSON Lines.
  expect_refused(run({"match", "-w", w, " \t"}), 2, {"no course text"});
  expect_refused(run({"match", "-w", w, "--jsonl", "--mode", "bm25"},
                     "{\"text\":\"ok\"}\n{\"text\":\"  \\n \"}\n"),
                 2, {"stdin line 2", "empty or only white space"});
  const std::string huge(1100000, 'a');
  test::spit(dir / "huge.txt", huge);
  expect_refused(run({"match", "-w", w, "--mode", "bm25", "--input", (dir / "huge.txt").string()}),
                 2, {"longer than 1 MiB"});
  expect_refused(run({"match", "-w", w, "--jsonl", "--mode", "bm25"},
                     nlohmann::json{{"text", huge}}.dump() + "\n"),
                 2, {"stdin line 1", "longer than 1 MiB"});
  // Sharded batches cover every record once.
  std::string in;
  for (int i = 0; i < 7; ++i)
    in += nlohmann::json{{"id", i}, {"text", "Buchhaltung"}}.dump() + "\n";
  std::size_t total = 0;
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    r = run({"match", "-w", w, "--jsonl", "--mode", "bm25", "--shard", shard}, in);
    ASSERT_EQ(r.rc, 0) << r.err;
    total += static_cast<std::size_t>(std::count(r.out.begin(), r.out.end(), '\n'));
  }
  EXPECT_EQ(total, 7u);
  expect_refused(run({"match", "-w", w, "--shard", "1/3", "x"}), 2, {"--shard"});
  expect_refused(run({"match", "-w", w, "--jsonl", "--shard", "3/3"}, in), 2, {"--shard K"});
}

// 6. A model of the wrong kind is refused by name.
TEST(Hardening, ModelsOfTheWrongKindAreRefused) {
  test::TempDir dir;
  expect_refused(run({"embed", "-m", (fixtures() / "reranker").string()}, "{\"text\":\"a\"}\n"), 2,
                 {"cross-encoder", "not an embedding model"});
  const std::string w = own_workspace(dir).string();
  expect_refused(run({"index", "-w", w, "-e", (fixtures() / "reranker").string()}), 2,
                 {"cross-encoder"});
  expect_refused(run({"rerank", "-m", (fixtures() / "embedder-cls").string()},
                     "{\"query\":\"a\",\"passage\":\"b\"}\n"),
                 5, {"not a sequence classifier"});
}

// 7. Messages say what is wrong.
TEST(Hardening, MessagesNameTheRealProblem) {
  expect_refused(run({"embed", "-m", (fixtures() / "README.md").string()}, "{\"text\":\"a\"}\n"), 2,
                 {"README.md is not a directory"});
  expect_refused(run({"embed", "-m", "/no/such/model"}, "{\"text\":\"a\"}\n"), 3,
                 {"/no/such/model does not exist"});
  const Result r = run({"rerank", "-m", (fixtures() / "reranker").string(), "--max-length", "513"},
                       "{\"query\":\"a\",\"passage\":\"b\"}\n");
  expect_refused(r, 2, {"max length 513 exceeds the model's limit of 512"});
  EXPECT_EQ(r.err.find("line 1"), std::string::npos) << r.err;
}

// 8. pull against a misbehaving server: clear messages, nothing outside the cache.
TEST(Hardening, PullRefusesWhatABadServerSends) {
  test::TempDir dir;
  httplib::Server hub;
  hub.Get("/api/models/org/dots/revision/main",
          [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"sha": "..", "siblings": [{"rfilename": "config.json"}]})",
                            "application/json");
          });
  hub.Get("/api/models/org/size/revision/main", [](const httplib::Request&,
                                                   httplib::Response& res) {
    res.set_content(
        std::string(R"({"sha": ")") + std::string(40, 'a') +
            R"(", "siblings": [{"rfilename": "config.json"}, {"rfilename": "tokenizer.json"}]})",
        "application/json");
  });
  hub.Get(".*/resolve/.*", [](const httplib::Request&, httplib::Response& res) {  // also HEAD
    res.set_header("ETag", "\"abc\"");
    res.set_header("X-Linked-Size", "twelve");
  });
  hub.Get("/api/models/org/slow/revision/main",
          [](const httplib::Request&, httplib::Response& res) {
            std::this_thread::sleep_for(std::chrono::seconds(3));
            res.set_content("{}", "application/json");
          });
  const int port = hub.bind_to_any_port("127.0.0.1");
  std::thread t([&] { hub.listen_after_bind(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::vector<std::pair<std::string, std::string>> env = {
      {"HF_HUB_CACHE", (dir / "cache").string()}};
  expect_refused(run({"pull", "org/x", "--endpoint", "ftp://example.org"}, "", env), 2,
                 {"scheme 'ftp' is not supported"});
  expect_refused(run({"pull", "org/dots", "--endpoint", url}, "", env), 6,
                 {"no commit (40 hex digits)"});
  expect_refused(run({"pull", "org/size", "--endpoint", url}, "", env), 6,
                 {"size that is not a number", "twelve"});
  const auto t0 = std::chrono::steady_clock::now();
  expect_refused(run({"pull", "org/slow", "--endpoint", url, "--timeout", "1"}, "", env), 6,
                 {"sent nothing for 1 s", "--timeout"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  expect_refused(run({"pull", "org/x", "--revision", "../../etc", "--endpoint", url}, "", env), 2,
                 {"not a revision name"});
  // Nothing was written outside the cache folder.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_LE(entries, 1u);
  hub.stop();
  t.join();
}

// 9. A vector file with a damaged header is set aside by `index`, which rebuilds it.
TEST(Hardening, DamagedVectorFileIsSetAsideAndRebuilt) {
  test::TempDir dir;
  const std::string w = own_workspace(dir).string();
  const std::string emb = (fixtures() / "embedder-mean").string();
  ASSERT_EQ(run({"index", "-w", w, "-e", emb}).rc, 0);
  fs::path vectors;
  for (const auto& e : fs::directory_iterator(w)) {
    if (e.path().extension() == ".bin") vectors = e.path();
  }
  ASSERT_FALSE(vectors.empty());
  test::spit(vectors, "garbage that is not a vector file");
  Result r = run({"match", "-w", w, "-e", emb, "--no-auto-index", "x"});
  EXPECT_EQ(r.rc, 4) << r.err;
  EXPECT_NE(r.err.find("not a skillmatch vector file"), std::string::npos) << r.err;
  r = run({"index", "-w", w, "-e", emb});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("moved it aside"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("3 skills: 3 embedded"), std::string::npos) << r.out;
  EXPECT_EQ(run({"match", "-w", w, "-e", emb, "--no-auto-index", "x"}).rc, 0);
}

// 10. Other taxonomies do not block matching within one; replacing a taxonomy needs --replace;
// NUL bytes are refused alike; an interrupted own import is not followed by the shipped data.
TEST(Hardening, TaxonomiesDoNotBlockEachOther) {
  test::TempDir dir;
  const std::string w = own_workspace(dir).string();
  const std::string emb = (fixtures() / "embedder-mean").string();
  ASSERT_EQ(run({"index", "-w", w, "-e", emb}).rc, 0);
  test::spit(dir / "more.csv", "uri,label\nm1,Schweißen\nm2,Gemüse anbauen\n");
  ASSERT_EQ(run({"import", "custom", (dir / "more.csv").string(), "--name", "more", "-w", w}).rc,
            0);
  Result r = run({"match", "-w", w, "-e", emb, "--no-auto-index", "--taxonomy", "own", "x"});
  EXPECT_EQ(r.rc, 0) << r.err;
  r = run({"match", "-w", w, "-e", emb, "--no-auto-index", "x"});
  expect_refused(r, 2, {"2 of the 5 skills to match have no vector"});

  const std::string before = state(w);
  r = run({"import", "custom", (dir / "more.csv").string(), "--name", "own", "-w", w});
  expect_refused(r, 2, {"would remove 3 of its 3 skills", "--replace"});
  EXPECT_EQ(state(w), before);
  r = run({"import", "custom", (dir / "more.csv").string(), "--name", "own", "--replace", "-w", w});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "own: 2 added, 0 updated, 0 unchanged, 3 removed\n");

  test::spit(dir / "nul.csv", std::string("uri,label\nn1,a\0b\n", 17));
  expect_refused(run({"import", "custom", (dir / "nul.csv").string(), "--name", "n", "-w", w}), 2,
                 {"nul.csv line 2", "NUL byte"});
  test::spit(dir / "nul.jsonl", "{\"uri\": \"n1\", \"label\": \"a\\u0000b\"}\n");
  expect_refused(run({"import", "custom", (dir / "nul.jsonl").string(), "--name", "n", "-w", w}), 2,
                 {"nul.jsonl line 1", "NUL byte"});

  // An own first import, killed: the next command does not seed the shipped German data.
  const fs::path fresh = dir / "fresh";
  {
    Workspace ws = Workspace::open(fresh, true);
    ws.set_meta("defaults.state", "declined");  // what `import` writes before its transaction
  }
  r = run({"taxonomies", "-w", fresh.string()});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(state(fresh), "defaults=declined");
}

}  // namespace
}  // namespace skillmatch
