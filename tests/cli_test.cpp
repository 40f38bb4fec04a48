// The skillmatch CLI run as a user runs it: JSON Lines in and out, errors with line numbers and
// exit codes, atomic output files. Also the JSON Lines reader on its own.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <sstream>

#include "cli_run.h"
#include "fake_hub.h"
#include "jsonl.h"
#include "skillmatch/catalog/workspace.h"
#include "skillmatch/core/error.h"
#include "skillmatch/engine.h"
#include "test_util.h"

namespace skillmatch {
namespace {

using test::fixtures;

using test::quote;
using test::Result;
using test::run;

std::vector<nlohmann::json> lines(const std::string& s) {
  std::vector<nlohmann::json> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::string jsonl(const std::vector<nlohmann::json>& objs) {
  std::string s;
  for (const auto& o : objs) s += o.dump() + "\n";
  return s;
}

TEST(Cli, TokenizeMatchesFixture) {
  const auto cases = test::load_json(fixtures() / "expected" / "tokenize.json")["cases"];
  std::vector<nlohmann::json> in;
  for (const auto& c : cases) in.push_back({{"text", c["text"]}});
  const Result r = run({"tokenize", "--model", (fixtures() / "reranker").string()}, jsonl(in));
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), cases.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i]["ids"], cases[i]["ids"]);
  const Result r16 =
      run({"tokenize", "-m", (fixtures() / "tokenizer").string(), "--max-length", "16"}, jsonl(in));
  ASSERT_EQ(r16.rc, 0) << r16.err;
  const auto out16 = lines(r16.out);
  for (std::size_t i = 0; i < out16.size(); ++i) {
    EXPECT_EQ(out16[i]["ids"], cases[i]["ids_max_len_16"]);
  }
}

TEST(Cli, TokenizePairsPiecesAndIds) {
  const auto c = test::load_json(fixtures() / "expected" / "rerank.json")["cases"][0];
  const Result r = run({"tokenize", "-m", (fixtures() / "reranker").string(), "--pieces"},
                       jsonl({{{"id", 7}, {"text", c["query"]}, {"text_pair", c["passage"]}}}));
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["id"], 7);
  EXPECT_EQ(out[0]["ids"], c["ids"]);
  EXPECT_EQ(out[0]["pieces"][0], "<s>");
  EXPECT_EQ(out[0]["pieces"].size(), c["ids"].size());
}

TEST(Cli, EmbedMatchesReferenceInInputOrder) {
  const auto model = test::load_json(fixtures() / "expected" / "embed.json")["embedder-cls"];
  std::vector<nlohmann::json> in, expected;
  for (const auto& c : model["cases"]) {
    if (c["prompt"] != "query: ") continue;
    in.push_back({{"text", c["text"]}});
    expected.push_back(c["embedding"]);
  }
  for (const char* batch : {"1", "64"}) {
    const Result r = run({"embed", "-m", (fixtures() / "embedder-cls").string(), "--prompt",
                          "query", "--dtype", "float32", "--batch-size", batch},
                         jsonl(in));
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto out = lines(r.out);
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto got = out[i]["embedding"].get<std::vector<double>>();
      const auto want = expected[i].get<std::vector<double>>();
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-4);
    }
  }
}

TEST(Cli, EmbedPromptTextEqualsNamedPrompt) {
  const std::string m = (fixtures() / "embedder-mean").string();
  const std::string in = jsonl({{{"text", "Gartenbau"}}});
  const Result named = run({"embed", "-m", m, "--prompt", "passage", "--dtype", "float32"}, in);
  const Result literal =
      run({"embed", "-m", m, "--prompt-text", "passage: ", "--dtype", "float32"}, in);
  const Result none = run({"embed", "-m", m, "--prompt", "none", "--dtype", "float32"}, in);
  ASSERT_EQ(named.rc, 0) << named.err;
  EXPECT_EQ(named.out, literal.out);
  EXPECT_NE(named.out, none.out);
  const Result unknown = run({"embed", "-m", m, "--prompt", "document"}, in);
  EXPECT_EQ(unknown.rc, 2);
  EXPECT_NE(unknown.err.find("no prompt named 'document'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("passage, query"), std::string::npos) << unknown.err;
}

// By default pairs are cut as FlagReranker.compute_score does today; --pair-truncation
// longest-first gives what sentence-transformers' CrossEncoder gives.
TEST(Cli, RerankMatchesReference) {
  for (const auto& [file, rule] : std::vector<std::pair<std::string, std::string>>{
           {"rerank_flagembedding.json", ""}, {"rerank.json", "longest-first"}}) {
    const auto cases = test::load_json(fixtures() / "expected" / file)["cases"];
    std::vector<nlohmann::json> in;
    std::vector<const nlohmann::json*> want;
    for (const auto& c : cases) {
      if (c["max_length"] != 64) continue;
      in.push_back({{"query", c["query"]}, {"passage", c["passage"]}});
      want.push_back(&c);
    }
    std::vector<std::string> args = {"rerank",       "-m", (fixtures() / "reranker").string(),
                                     "--max-length", "64", "--dtype",
                                     "float32"};
    if (!rule.empty()) args.insert(args.end(), {"--pair-truncation", rule});
    const Result r = run(args, jsonl(in));
    ASSERT_EQ(r.rc, 0) << r.err;
    const auto out = lines(r.out);
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_NEAR(out[i]["score"].get<double>(), (*want[i])["score"].get<double>(), 1e-4) << file;
      EXPECT_NEAR(out[i]["score_sigmoid"].get<double>(), (*want[i])["score_sigmoid"].get<double>(),
                  1e-4);
    }
  }
}

TEST(Cli, InputAndOutputFiles) {
  test::TempDir dir;
  test::spit(dir / "in.jsonl", "{\"text\": \"a\"}\n\n{\"text\": \"b\"}\r\n");
  const Result r = run({"tokenize", "-m", (fixtures() / "tokenizer").string(), "--input",
                        (dir / "in.jsonl").string(), "--output", (dir / "out.jsonl").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(test::slurp(dir / "out.jsonl")).size(), 2u);  // the blank line is skipped
}

TEST(Cli, MalformedLineFailsWithItsNumberAndLeavesNoOutputFile) {
  test::TempDir dir;
  const auto out = dir / "out.jsonl";
  test::spit(out, "previous result\n");
  const std::string m = (fixtures() / "embedder-cls").string();
  struct Bad {
    std::string input;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {"{\"text\": \"ok\"}\n{\"text\": \"ok\"\n", "stdin line 2: invalid JSON"},
      {"{\"text\": \"ok\"}\n\n[1, 2]\n", "stdin line 3: expected a JSON object, got array"},
      {"{\"txt\": \"ok\"}\n", "stdin line 1: the object has no \"text\""},
      {"{\"text\": 5}\n", "stdin line 1: \"text\" must be a string, got number"},
      {"{\"text\": \"ok\"}\n{\"text\": \"bad \xFF\"}\n", "stdin line 2: invalid JSON"},
  };
  for (const auto& b : bad) {
    const Result r = run({"embed", "-m", m, "--output", out.string()}, b.input);
    EXPECT_EQ(r.rc, 2) << b.input;
    EXPECT_NE(r.err.find(b.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_EQ(r.err.find("stdin", r.err.find("stdin") + 1), std::string::npos)
        << "the line is named once: " << r.err;
    EXPECT_EQ(test::slurp(out), "previous result\n");
  }
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
}

TEST(Cli, MissingOrWrongModelFolder) {
  const Result missing = run({"embed", "-m", "/nonexistent/model"}, "{\"text\":\"a\"}\n");
  EXPECT_EQ(missing.rc, 3);
  EXPECT_NE(missing.err.find("/nonexistent/model"), std::string::npos) << missing.err;
  const Result wrong = run({"rerank", "-m", (fixtures() / "embedder-cls").string()},
                           "{\"query\":\"a\",\"passage\":\"b\"}\n");
  EXPECT_EQ(wrong.rc, 5);
  EXPECT_NE(wrong.err.find("not a sequence classifier"), std::string::npos) << wrong.err;
  const Result tok = run({"tokenize", "-m", "/nonexistent/model"}, "");
  EXPECT_EQ(tok.rc, 3);
  const Result input = run(
      {"tokenize", "-m", (fixtures() / "tokenizer").string(), "--input", "/nonexistent/in.jsonl"});
  EXPECT_EQ(input.rc, 3);
  EXPECT_NE(input.err.find("/nonexistent/in.jsonl"), std::string::npos) << input.err;
}

TEST(Cli, BadOptionsAndHelp) {
  EXPECT_NE(run({"embed", "-m", (fixtures() / "embedder-cls").string(), "--dtype", "float8"}).rc,
            0);
  EXPECT_NE(run({"embed", "-m", "x", "--batch-size", "0"}).rc, 0);
  EXPECT_NE(run({}).rc, 0);
  for (const char* cmd : {"tokenize", "embed", "rerank", "info"}) {
    const Result h = run({cmd, "--help"});
    EXPECT_EQ(h.rc, 0) << cmd;
    EXPECT_NE(h.out.find("--model"), std::string::npos) << cmd;
  }
  EXPECT_EQ(run({"--help"}).rc, 0);
  EXPECT_NE(run({"--version"}).out.find("skillmatch"), std::string::npos);
}

TEST(Cli, EmptyInputGivesEmptyOutput) {
  const Result r = run({"embed", "-m", (fixtures() / "embedder-cls").string()}, "");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, InfoDescribesTheModel) {
  const Result r = run({"info", "-m", (fixtures() / "embedder-mean").string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "bi-encoder");
  EXPECT_EQ(j["pooling"], "mean");
  EXPECT_EQ(j["max_seq_length"], 128);
  const Result rr = run({"--threads", "1", "info", "-m", (fixtures() / "reranker").string()});
  ASSERT_EQ(rr.rc, 0) << rr.err;
  EXPECT_EQ(nlohmann::json::parse(rr.out)["kind"], "cross-encoder");
  EXPECT_EQ(nlohmann::json::parse(rr.out)["threads"], 1);
}

TEST(JsonlReader, BoundsLineLength) {
  std::istringstream in("{\"text\": \"short\"}\n{\"text\": \"" + std::string(100, 'x') + "\"}\n");
  JsonlReader reader(in, "in.jsonl", 64);
  nlohmann::json obj;
  ASSERT_TRUE(reader.next(obj));
  EXPECT_EQ(reader.line(), 1u);
  try {
    reader.next(obj);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in.jsonl line 2: line is longer than 64 bytes"),
              std::string::npos)
        << e.what();
  }
}

TEST(JsonlReader, LastLineWithoutNewline) {
  std::istringstream in("{\"a\": 1}\n{\"a\": 2}");
  JsonlReader reader(in, "x");
  nlohmann::json obj;
  ASSERT_TRUE(reader.next(obj));
  ASSERT_TRUE(reader.next(obj));
  EXPECT_EQ(obj["a"], 2);
  EXPECT_FALSE(reader.next(obj));
}

TEST(JsonlFloats, ShortestRoundTrip) {
  std::string s;
  cli::append_float_array(s, std::vector<float>{0.1f, -2.5f, 1e-8f}.data(), 3);
  EXPECT_EQ(s, "[0.1,-2.5,1e-08]");
  const auto back = nlohmann::json::parse(s).get<std::vector<float>>();
  EXPECT_EQ(back, (std::vector<float>{0.1f, -2.5f, 1e-8f}));
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

// A custom taxonomy of a few skills as CSV, for fast workspace tests.
void write_custom_taxonomy(const std::filesystem::path& file) {
  test::spit(file,
             "uri,label,description\n"
             "k1,Buchhaltung führen,Geschäftsvorfälle erfassen und Abschlüsse erstellen\n"
             "k2,Tabellenkalkulation verwenden,Mit Excel Tabellen und Formeln arbeiten\n"
             "k3,Python programmieren,Programme in Python schreiben\n"
             "k4,Gemüse anbauen,Pflanzen im Garten ziehen\n");
}

// With no flag, the first match creates the workspace from the shipped data and matches hybrid
// with the built-in model, whose shipped skill vectors spare the indexing.
TEST(CliMatch, FirstUseCreatesTheDefaultWorkspaceAndMatchesWithTheBuiltInModel) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  ASSERT_FALSE(default_embedder(SKILLMATCH_SHIPPED_DATA).empty())
      << "data/models/" << kDefaultEmbedderName;
  const Result r = run({"match", "--workspace", ws, "--json",
                        "Grundlagen der Buchhaltung: doppelte Buchführung und Jahresabschluss"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("imported ESCO v1.1.0 German (13891 skills) and GRETA 2.0.1 (23 facets)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("matching hybrid (BM25 fused with skillmatch's built-in model " +
                       std::string(kDefaultEmbedderName)),
            std::string::npos)
      << r.err;
  // Every vector comes from the model's skill-vectors.bin: none is embedded.
  EXPECT_NE(r.err.find("skill-vectors.bin holds"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("that it lacks"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("disagree"), std::string::npos) << r.err;
  const auto first = nlohmann::json::parse(r.out);
  EXPECT_EQ(first["mode"], "hybrid");
  ASSERT_FALSE(first["results"].empty());
  bool bookkeeping = false, cosine = false, bm25 = false;
  for (const auto& res : first["results"]) {
    bookkeeping |= res["label"].get<std::string>().find("Buchführung") != std::string::npos;
    cosine |= res["scores"].contains("cosine");
    bm25 |= res["scores"].contains("bm25");
  }
  EXPECT_TRUE(bookkeeping && cosine && bm25) << r.out;
  const Result plain = run({"match", "--workspace", ws, "--mode", "bm25", "Buchhaltung"});
  ASSERT_EQ(plain.rc, 0) << plain.err;
  EXPECT_EQ(plain.err.find("built-in model"), std::string::npos) << plain.err;
  const Result tax = run({"taxonomies", "--workspace", ws});
  EXPECT_NE(tax.out.find("esco-de\t13891 skills"), std::string::npos) << tax.out;
  EXPECT_NE(tax.out.find("greta\t23 skills"), std::string::npos) << tax.out;

  const Result j = run({"match", "--workspace", ws, "--json", "--top", "3", "--collection", "green",
                        "Abfallvermeidung und Recycling im Betrieb"});
  ASSERT_EQ(j.rc, 0) << j.err;
  const auto out = nlohmann::json::parse(j.out);
  EXPECT_EQ(out["mode"], "hybrid");
  ASSERT_EQ(out["results"].size(), 3u);
  EXPECT_EQ(out["results"][0]["rank"], 1);
  EXPECT_EQ(out["results"][0]["taxonomy"], "esco-de");

  // The ESCO hierarchy (v1.2 links, shipped) and GRETA's aspects restrict matching.
  const Result groups = run({"groups", "--workspace", ws});
  ASSERT_EQ(groups.rc, 0) << groups.err;
  EXPECT_NE(groups.out.find("esco-de\tS\t"), std::string::npos) << groups.out;
  EXPECT_NE(groups.out.find("greta\t1\t10 skills\tBerufspraktisches Wissen und Können"),
            std::string::npos)
      << groups.out;
  {
    // A workspace made from the data before the hierarchy was shipped is brought up to date.
    Workspace w = Workspace::open(ws, false);
    w.set_meta("defaults.state", "done");
    w.set_hierarchy("esco-de", {}, {});
  }
  const Result upgraded = run({"groups", "--workspace", ws});
  EXPECT_EQ(upgraded.out, groups.out) << upgraded.err;
  const Result under = run({"groups", "--workspace", ws, "--under", "S4"});
  EXPECT_NE(under.out.find("\tS4.5\t"), std::string::npos) << under.out;
  const Result unknown = run({"groups", "--workspace", ws, "--under", "S99"});
  EXPECT_EQ(unknown.rc, 2);
  EXPECT_NE(unknown.err.find("no skill group 'S99'"), std::string::npos) << unknown.err;
  const Result g = run({"match", "--workspace", ws, "--json", "--group", "1", "--top", "20",
                        "Lernziele festlegen und Methoden auswählen"});
  ASSERT_EQ(g.rc, 0) << g.err;
  const auto gj = nlohmann::json::parse(g.out);
  ASSERT_FALSE(gj["results"].empty());
  for (const auto& res : gj["results"]) {
    EXPECT_EQ(res["uri"].get<std::string>().rfind("GRETA-1-", 0), 0u) << res["uri"];
  }
  const Result bad_group = run({"match", "--workspace", ws, "--group", "S99", "Buchhaltung"});
  EXPECT_EQ(bad_group.rc, 2);
  EXPECT_NE(bad_group.err.find("no skill group 'S99'"), std::string::npos) << bad_group.err;

  const Result none = run({"match", "--workspace", ws, "--threshold", "1000", "Buchhaltung"});
  EXPECT_EQ(none.rc, 0) << none.err;
  EXPECT_EQ(none.out, "no matching skills\n");

  const Result empty = run({"match", "--workspace", ws}, "  \n");
  EXPECT_EQ(empty.rc, 2);
  EXPECT_NE(empty.err.find("no course text"), std::string::npos);
}

TEST(CliMatch, ImportIndexAndNeuralMatch) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  write_custom_taxonomy(dir / "own.csv");
  Result r =
      run({"import", "custom", (dir / "own.csv").string(), "--name", "own", "--workspace", ws});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "own: 4 added, 0 updated, 0 unchanged, 0 removed\n");
  r = run({"import", "custom", (dir / "own.csv").string(), "--name", "own", "--workspace", ws});
  EXPECT_EQ(r.out, "own: 0 added, 0 updated, 4 unchanged, 0 removed\n");

  const std::string emb = (fixtures() / "embedder-mean").string();
  const std::string rr = (fixtures() / "reranker").string();
  // Without vectors: refused when asked not to index, else the skills are embedded first.
  r = run({"match", "--workspace", ws, "-e", emb, "--no-auto-index", "x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("4 of the 4 skills to match have no vector of " + emb), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("skillmatch index --embedder"), std::string::npos) << r.err;
  r = run({"match", "--workspace", ws, "-e", emb, "--mode", "dense", "Excel"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("embedding them now"), std::string::npos) << r.err;
  r = run({"index", "--workspace", ws, "-e", emb});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("4 skills: 0 embedded, 4 already indexed"), std::string::npos) << r.out;

  // Vectors made with another passage template: the message names it.
  r = run({"index", "--workspace", ws, "-e", emb, "--template", "{label}"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("4 skills: 4 embedded, 0 already indexed"), std::string::npos) << r.out;
  r = run({"match", "--workspace", ws, "-e", emb, "--no-auto-index", "--template",
           "passage: {label}", "x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("made with --template \"{label}\""), std::string::npos) << r.err;

  r = run({"match", "--workspace", ws, "-e", emb, "-r", rr, "--json", "--dtype", "float32",
           "Excel-Kurs für Einsteiger"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["mode"], "hybrid");
  ASSERT_EQ(out["results"].size(), 4u);
  for (const auto& res : out["results"]) {
    EXPECT_TRUE(res["scores"].contains("cosine"));
    EXPECT_TRUE(res["scores"].contains("fused"));
    EXPECT_TRUE(res["scores"].contains("rerank_logit"));
    EXPECT_NEAR(res["score"].get<double>(), res["scores"]["rerank_sigmoid"].get<double>(), 1e-6);
  }

  // The approximate index: built by `index --ann`, used by `match --ann`.
  r = run({"match", "--workspace", ws, "-e", emb, "--ann", "--mode", "dense", "x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("index --ann"), std::string::npos) << r.err;
  r = run({"index", "--workspace", ws, "-e", emb, "--ann"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("approximate index: HNSW M=16"), std::string::npos) << r.out;
  r = run({"index", "--workspace", ws, "-e", emb, "--ann"});
  EXPECT_NE(r.out.find("approximate index up to date"), std::string::npos) << r.out;
  const Result exact = run({"match", "--workspace", ws, "-e", emb, "--mode", "dense", "--json",
                            "--dtype", "float32", "Excel-Kurs"});
  const Result approx = run({"match", "--workspace", ws, "-e", emb, "--mode", "dense", "--json",
                             "--dtype", "float32", "--ann", "Excel-Kurs"});
  ASSERT_EQ(approx.rc, 0) << approx.err;
  // Four skills: the graph search finds the exact order (FAISS sums the products its own way).
  const auto ej = nlohmann::json::parse(exact.out)["results"];
  const auto aj = nlohmann::json::parse(approx.out)["results"];
  ASSERT_EQ(aj.size(), ej.size());
  for (std::size_t i = 0; i < ej.size(); ++i) {
    EXPECT_EQ(aj[i]["uri"], ej[i]["uri"]);
    EXPECT_NEAR(aj[i]["score"].get<double>(), ej[i]["score"].get<double>(), 1e-5);
  }

  // Another model has vectors of its own: without them it is refused, naming it.
  const std::string cls = (fixtures() / "embedder-cls").string();
  r = run({"match", "--workspace", ws, "-e", cls, "--no-auto-index", "x"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("no vector of " + cls), std::string::npos) << r.err;
}

TEST(CliMatch, BatchJsonLinesStreamsTenThousandTexts) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  write_custom_taxonomy(dir / "own.csv");
  ASSERT_EQ(
      run({"import", "custom", (dir / "own.csv").string(), "--name", "own", "--workspace", ws}).rc,
      0);
  std::string in;
  const char* texts[] = {"Buchhaltung lernen", "Python für Einsteiger", "Gemüse im Garten"};
  for (int i = 0; i < 10000; ++i) {
    in += nlohmann::json{{"id", i}, {"text", texts[i % 3]}}.dump() + "\n";
  }
  const Result r = run({"match", "--workspace", ws, "--jsonl", "--mode", "bm25", "--top", "1",
                        "--output", (dir / "out.jsonl").string()},
                       in);
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto out = lines(test::slurp(dir / "out.jsonl"));
  ASSERT_EQ(out.size(), 10000u);
  const char* expected[] = {"k1", "k3", "k4"};
  for (int i = 0; i < 10000; i += 997) {
    EXPECT_EQ(out[i]["id"], i);
    EXPECT_EQ(out[i]["results"][0]["uri"], expected[i % 3]);
  }
  // Bounded memory: 10,000 texts of 1 KiB (10 MiB of input) need no more memory than 1,000.
  std::string padding;
  while (padding.size() < 1024) padding += " Lernen im Kurs";
  std::string big_in, small_in;
  for (int i = 0; i < 10000; ++i) {
    const std::string line =
        nlohmann::json{{"id", i}, {"text", texts[i % 3] + padding}}.dump() + "\n";
    big_in += line;
    if (i < 1000) small_in += line;
  }
  const std::vector<std::string> args = {
      "match", "--workspace", ws,  "--jsonl",  "--mode",
      "bm25",  "--top",       "1", "--output", (dir / "big.jsonl").string()};
  // Under AddressSanitizer freed memory waits in a quarantine and would count as growth.
  const std::vector<std::pair<std::string, std::string>> env = {
      {"ASAN_OPTIONS", "detect_leaks=0:quarantine_size_mb=0:thread_local_quarantine_size_kb=0"}};
  const Result small = run(args, small_in, env);
  const Result big = run(args, big_in, env);
  ASSERT_EQ(small.rc, 0) << small.err;
  ASSERT_EQ(big.rc, 0) << big.err;
  EXPECT_EQ(lines(test::slurp(dir / "big.jsonl")).size(), 10000u);
  EXPECT_LT(big.max_rss_kb, small.max_rss_kb + 4 * 1024)
      << "1,000 texts: " << small.max_rss_kb << " KiB, 10,000: " << big.max_rss_kb << " KiB";

  const Result bad = run({"match", "--workspace", ws, "--jsonl", "--mode", "bm25"},
                         "{\"text\": \"a\"}\n{\"id\": 2}\n");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("stdin line 2: the object has no \"text\""), std::string::npos) << bad.err;
}

TEST(CliImport, MalformedTaxonomyNamesFileAndLine) {
  test::TempDir dir;
  test::spit(dir / "bad.csv", "uri,label\nk1,A\nk1,B\n");
  const Result r = run({"import", "custom", (dir / "bad.csv").string(), "--name", "x",
                        "--workspace", (dir / "ws").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("bad.csv line 3: duplicate URI k1"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

// Kills `skillmatch index` with SIGKILL part-way (during the default import or the embedding),
// then checks that the workspace opens, the index resumes and completes, and matching works.
TEST(CliMatch, IndexKilledPartWayResumes) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  const std::string emb = (fixtures() / "embedder-mean").string();
  for (const char* delay : {"0.3", "2.5"}) {
    const std::string cmd = "(" + quote(SKILLMATCH_CLI) + " index -w " + quote(ws) + " -e " +
                            quote(emb) + " --dtype float32 >/dev/null 2>&1 & pid=$!; sleep " +
                            delay + "; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null) ";
    ASSERT_NE(std::system(cmd.c_str()), -1);
  }
  const Result resumed = run({"index", "-w", ws, "-e", emb, "--dtype", "float32"});
  ASSERT_EQ(resumed.rc, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("13914 skills:"), std::string::npos) << resumed.out;
  const Result again = run({"index", "-w", ws, "-e", emb, "--dtype", "float32"});
  EXPECT_NE(again.out.find("13914 skills: 0 embedded, 13914 already indexed"), std::string::npos)
      << again.out;
  const Result m = run({"match", "-w", ws, "-e", emb, "--json", "--mode", "dense", "Buchhaltung"});
  ASSERT_EQ(m.rc, 0) << m.err;
  EXPECT_EQ(nlohmann::json::parse(m.out)["results"].size(), 10u);
  const Result tax = run({"taxonomies", "-w", ws});
  EXPECT_NE(tax.out.find("greta\t23 skills"), std::string::npos) << tax.out;
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

TEST(CliPull, DownloadsIntoTheCacheThatMatchFindsByHubId) {
  test::FakeHub hub(fixtures() / "embedder-mean");
  test::TempDir dir;
  const std::string cache = (dir / "hub").string();
  const Result r =
      run({"pull", "org/tiny", "--endpoint", hub.url()}, "", {{"HF_HUB_CACHE", cache}});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("models--org--tiny/snapshots/") + test::kCommit),
            std::string::npos)
      << r.out;
  const Result info = run({"info", "-m", "org/tiny"}, "", {{"HF_HUB_CACHE", cache}});
  EXPECT_EQ(info.rc, 0) << info.err;
  const Result missing =
      run({"pull", "org/none", "--endpoint", hub.url()}, "", {{"HF_HUB_CACHE", cache}});
  EXPECT_EQ(missing.rc, 3);
  EXPECT_NE(missing.err.find("org/none"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

// The shipped WDB course set on the default workspace with three configurations; the metrics
// printed must be what an independent script recomputes from the TREC run files.
TEST(CliEval, ConfigurationsSideBySideAgreeWithTheirRunFiles) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  const std::string emb = (fixtures() / "embedder-mean").string();
  const std::string rr = (fixtures() / "reranker").string();
  const std::string set = std::string(SKILLMATCH_SHIPPED_DATA) + "/eval/wdb-courses-de.jsonl";
  Result r = run({"index", "--workspace", ws, "-e", emb, "--dtype", "float32"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string out = (dir / "out").string();
  r = run({"eval", set, "--workspace", ws, "-e", emb, "--dtype", "float32", "--depth", "20", "-c",
           "mode=bm25", "-c", "mode=dense", "-c",
           "name=hybrid rerank,reranker=" + rr + ",rerank-template={label}: {description}", "--out",
           out});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("dataset wdb-courses-de (triples): 19 queries evaluated"), std::string::npos)
      << r.out;
  for (const char* row : {"accuracy@1", "precision@10", "recall@5", "mrr@10", "ndcg@10", "map@100",
                          "latency p50 (ms)"}) {
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
  }
  for (const char* f : {"metrics.json", "metrics.md", "metrics.svg", "qrels.txt", "bm25.run",
                        "dense.run", "hybrid_rerank.run"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / f)) << f;
  }
  const auto j = test::load_json(dir / "out" / "metrics.json");
  ASSERT_EQ(j["configurations"].size(), 3u);
  // BM25 finds some of the silver skills; the random-weight fixture models score near chance.
  EXPECT_GT(j["configurations"][0]["metrics"]["accuracy@10"].get<double>(), 0.5);
  const std::string check = std::string(SKILLMATCH_PYTHON) + " " + SKILLMATCH_TEST_TOOLS +
                            "/check_eval_run.py " + out + " > " + (dir / "check").string() +
                            " 2>&1";
  EXPECT_EQ(std::system(check.c_str()), 0) << test::slurp(dir / "check");
  EXPECT_NE(test::slurp(dir / "check").find("57 metric values of 3 configurations agree"),
            std::string::npos)
      << test::slurp(dir / "check");

  // The same numbers as JSON on stdout.
  r = run({"eval", set, "--workspace", ws, "--json", "--limit", "5", "--ndcg-at", "5,10"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto js = nlohmann::json::parse(r.out);
  EXPECT_EQ(js["dataset"]["queries_evaluated"], 5);
  EXPECT_TRUE(js["configurations"][0]["metrics"].contains("ndcg@5"));
}

// The committed evaluation sets are what the documented command makes from the public data.
TEST(CliEval, EvaluationSetsAreReproducible) {
  const std::filesystem::path data = SKILLMATCH_SHIPPED_DATA;
  const std::filesystem::path shared = data / ".." / ".." / "shared" / "data";
  if (!std::filesystem::exists(shared / "techwolf_job_skill_val")) {
    GTEST_SKIP() << "the team's shared data is not beside the checkout";
  }
  test::TempDir dir;
  const std::string cmd = std::string(SKILLMATCH_PYTHON) + " " +
                          (data / ".." / "scripts" / "make_eval_sets.py").string() + " " +
                          shared.string() + " " + dir.path().string() + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  for (const char* f :
       {"esco-en-altlabels.jsonl", "wdb-courses-de.jsonl", "techwolf-jobs-en.csv"}) {
    EXPECT_EQ(test::slurp(dir / f), test::slurp(data / "eval" / f)) << f;
  }
}

TEST(CliEval, BadDatasetsAndOptions) {
  test::TempDir dir;
  const std::string ws = (dir / "ws").string();
  test::spit(dir / "labels.csv",
             "text,label\n"
             "Buchhaltung für Einsteiger,Buchhaltungsabteilung leiten\n"
             "Buchhaltung für Einsteiger,gibt es nicht\n"
             "Excel im Büro,auch nicht\n");
  Result r = run({"eval", (dir / "labels.csv").string(), "--workspace", ws});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("2 positive(s) did not resolve"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'gibt es nicht' x1 (first at"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("labels.csv line 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 query(ies) skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("1 queries evaluated, 1 skipped"), std::string::npos) << r.out;

  test::spit(dir / "none.csv", "text,label\nx,gibt es nicht\n");
  r = run({"eval", (dir / "none.csv").string(), "--workspace", ws});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("no query with a relevant skill"), std::string::npos) << r.err;

  test::spit(dir / "empty.jsonl", "");
  r = run({"eval", (dir / "empty.jsonl").string(), "--workspace", ws});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("has no queries"), std::string::npos) << r.err;

  test::spit(dir / "bad.jsonl",
             "{\"anchor\": \"Kurs\", \"positive\": \"Buchhaltungsabteilung leiten\"}\n"
             "{\"anchor\": \"Kurs 2\"}\n");
  r = run(
      {"eval", (dir / "bad.jsonl").string(), "--workspace", ws, "--out", (dir / "out").string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("bad.jsonl line 2: no positives"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));

  r = run({"eval", (dir / "missing.jsonl").string(), "--workspace", ws});
  EXPECT_EQ(r.rc, 3);
  test::spit(dir / "afile", "");
  r = run({"eval", (dir / "labels.csv").string(), "--workspace", ws, "--out",
           (dir / "afile").string()});
  EXPECT_EQ(r.rc, 6);
  EXPECT_NE(r.err.find("is not a folder"), std::string::npos) << r.err;
  r = run({"eval", (dir / "labels.csv").string(), "--workspace", ws, "-c", "mode=dense"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("configuration dense: dense retrieval needs an embedding model"),
            std::string::npos)
      << r.err;
  r = run({"eval", (dir / "labels.csv").string(), "--workspace", ws, "-c", "colour=blue"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unknown key 'colour'"), std::string::npos) << r.err;
  r = run({"eval", (dir / "labels.csv").string(), "--workspace", ws, "--map-at", "0"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--map-at: expected a whole number from 1 to 10000, got 0"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace skillmatch
