// `skillmatch serve` over loopback, as its clients use it: TEI's routes against TEI's schemas and
// the fixtures' reference numbers, skillmatch's routes, every kind of bad request, API key and
// CORS, feedback surviving kill -9, a graceful SIGTERM, and many clients at once.
#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "json_schema.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::fixtures;

const std::string kCli = SKILLMATCH_CLI;

// A workspace with the 60 skills of the ESCO export sample (English) and no shipped data.
fs::path sample_workspace(const fs::path& dir) {
  const fs::path ws = dir / "ws";
  const std::string cmd = kCli + " import esco '" +
                          (test::test_data() / "esco_export_sample.zip").string() +
                          "' --language en -w '" + ws.string() + "' > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return ws;
}

// A `skillmatch serve` process on a free port.
class Server {
 public:
  Server(const fs::path& ws, std::vector<std::string> args) : log_(ws.parent_path() / "serve.log") {
    std::vector<std::string> argv = {kCli,        "--threads", "1", "serve",   "-w",
                                     ws.string(), "--port",    "0", "--dtype", "float32"};
    argv.insert(argv.end(), args.begin(), args.end());
    fs::remove(log_);  // not the log of an earlier server of this workspace
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      ::execv(c[0], c.data());
      ::_exit(127);
    }
    // The log names the port; /health answers 200 once the skills are embedded.
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 1200 && port_ == 0; ++i) {
      std::smatch m;
      const std::string log = test::slurp(log_);
      if (std::regex_search(log, m, listening)) port_ = std::stoi(m[1]);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(port_, 0) << test::slurp(log_);
    for (int i = 0; i < 1200; ++i) {
      auto r = client().Get("/health");
      if (r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the server did not become healthy: " << test::slurp(log_);
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  httplib::Client client(const std::string& key = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120);
    if (!key.empty()) c.set_bearer_token_auth(key);
    return c;
  }
  // SIGTERM, then the exit status.
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string log() const { return test::slurp(log_); }
  int port() const { return port_; }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

json post(const httplib::Client& c, const std::string& path, const json& body, int status = 200) {
  auto r = const_cast<httplib::Client&>(c).Post(path, body.dump(), "application/json");
  EXPECT_TRUE(r) << path;
  if (!r) return nullptr;
  EXPECT_EQ(r->status, status) << path << " " << body.dump().substr(0, 200) << ": " << r->body;
  return r->body.empty() ? json() : json::parse(r->body);
}

json get(const httplib::Client& c, const std::string& path, int status = 200) {
  auto r = const_cast<httplib::Client&>(c).Get(path);
  EXPECT_TRUE(r) << path;
  if (!r) return nullptr;
  EXPECT_EQ(r->status, status) << path << ": " << r->body;
  return r->body.empty() ? json() : json::parse(r->body);
}

// Equal up to float rounding (requests batched together sum in another order).
bool near(const json& a, const json& b, double tol = 1e-5) {
  if (a.is_number() && b.is_number()) return std::abs(a.get<double>() - b.get<double>()) <= tol;
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!near(a[i], b[i], tol)) return false;
    }
    return true;
  }
  if (a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      if (!b.contains(k) || !near(v, b[k], tol)) return false;
    }
    return true;
  }
  return a == b;
}

const test::SchemaValidator& tei() {
  static const test::SchemaValidator v(
      test::load_json(test::test_data() / "tei_openapi_schemas.json")["schemas"]);
  return v;
}

#define EXPECT_SCHEMA(value, schema) EXPECT_EQ(tei().validate((value), (schema)), "") << (value)

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    server_ = new Server(
        sample_workspace(dir_->path()),
        {"-e", (fixtures() / "embedder-mean").string(), "-r", (fixtures() / "reranker").string(),
         "--max-client-batch-size", "8", "--max-body-bytes", "65536"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static Server* server_;
};
test::TempDir* ServerTest::dir_ = nullptr;
Server* ServerTest::server_ = nullptr;

TEST_F(ServerTest, EmbedMatchesTheReferenceAndTeiSchema) {
  const auto c = server_->client();
  const auto model = test::load_json(fixtures() / "expected" / "embed.json")["embedder-mean"];
  for (const auto& kase : model["cases"]) {
    json body = {{"inputs", kase["text"]}, {"truncate", true}};
    if (kase["prompt"] == "query: ") body["prompt_name"] = "query";
    if (kase["prompt"] == "passage: ") body["prompt_name"] = "passage";
    const json out = post(c, "/embed", body);
    EXPECT_SCHEMA(out, "EmbedResponse");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(near(out[0], kase["embedding"], 1e-4)) << kase["text"];
  }
  // POST / answers like /embed; a list keeps its order (equal to single texts up to the
  // summation order of another batch shape); normalize=false is the raw pooling.
  const json two = post(c, "/", {{"inputs", {"Excel", "Buchhaltung"}}});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_TRUE(near(two[1], post(c, "/embed", {{"inputs", "Buchhaltung"}})[0], 1e-6));
  const json raw = post(c, "/embed", {{"inputs", "Buchhaltung"}, {"normalize", false}});
  double norm = 0;
  for (const auto& x : raw[0]) norm += x.get<double>() * x.get<double>();
  EXPECT_GT(std::abs(std::sqrt(norm) - 1.0), 1e-3);
  // Token ids (from /tokenize) embed like their text.
  const json toks = post(c, "/tokenize", {{"inputs", "Buchhaltung"}});
  std::vector<int> ids;
  for (const auto& t : toks[0]) ids.push_back(t["id"]);
  EXPECT_TRUE(near(post(c, "/embed", {{"inputs", ids}})[0], two[1], 1e-6));
}

TEST_F(ServerTest, OpenAiEmbeddingsFloatAndBase64) {
  const auto c = server_->client();
  const json f = post(c, "/v1/embeddings", {{"input", {"Excel", "Buchhaltung"}}, {"model", "any"}});
  EXPECT_SCHEMA(f, "OpenAICompatResponse");
  EXPECT_EQ(f["object"], "list");
  EXPECT_EQ(f["model"], "any");
  ASSERT_EQ(f["data"].size(), 2u);
  EXPECT_EQ(f["data"][1]["index"], 1);
  EXPECT_GT(f["usage"]["prompt_tokens"].get<int>(), 2);
  const json b = post(c, "/embeddings", {{"input", "Excel"}, {"encoding_format", "base64"}});
  EXPECT_SCHEMA(b, "OpenAICompatResponse");
  // base64 of little-endian float32.
  const std::string s = b["data"][0]["embedding"];
  static const std::string digits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (std::size_t i = 0; i + 3 < s.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char ch = s[i + k];
      v = (v << 6) | (ch == '=' ? (++pad, 0u) : static_cast<std::uint32_t>(digits.find(ch)));
    }
    for (int k = 0; k < 3 - pad; ++k) bytes += static_cast<char>((v >> (16 - 8 * k)) & 0xff);
  }
  const json single = post(c, "/v1/embeddings", {{"input", "Excel"}})["data"][0]["embedding"];
  ASSERT_EQ(bytes.size(), single.size() * 4);
  for (std::size_t k = 0; k < single.size(); ++k) {
    float x;
    std::memcpy(&x, bytes.data() + 4 * k, 4);
    EXPECT_EQ(x, single[k].get<float>());
  }
  // usage counts the ids embedded: those /tokenize gives (specials included).
  std::size_t ids = 0;
  for (const auto& seq : post(c, "/tokenize", {{"inputs", {"Excel", "Buchhaltung"}}})) {
    ids += seq.size();
  }
  EXPECT_EQ(f["usage"]["prompt_tokens"], ids);
  EXPECT_EQ(f["usage"]["total_tokens"], ids);
  // As TEI: no truncation unless the service runs with --auto-truncate.
  const json long_input =
      post(c, "/v1/embeddings", {{"input", std::string(2000, 'a') + " b"}}, 413);
  EXPECT_SCHEMA(long_input, "OpenAICompatErrorResponse");
  const json err = post(c, "/v1/embeddings", {{"input", json::array()}}, 413);
  EXPECT_SCHEMA(err, "OpenAICompatErrorResponse");
  EXPECT_EQ(err["code"], 413);
}

TEST_F(ServerTest, RerankMatchesFlagEmbeddingReference) {
  const auto c = server_->client();
  const auto cases =
      test::load_json(fixtures() / "expected" / "rerank_flagembedding.json")["cases"];
  for (const auto& kase : cases) {
    if (kase["max_length"] != 512) continue;
    const json raw = post(c, "/rerank",
                          {{"query", kase["query"]},
                           {"texts", {kase["passage"], "Schafe scheren"}},
                           {"raw_scores", true},
                           {"return_text", true},
                           {"truncate", true}});
    EXPECT_SCHEMA(raw, "RerankResponse");
    ASSERT_EQ(raw.size(), 2u);
    EXPECT_GE(raw[0]["score"].get<double>(), raw[1]["score"].get<double>());  // sorted
    for (const auto& r : raw) {
      if (r["index"] != 0) continue;
      EXPECT_NEAR(r["score"].get<double>(), kase["score"].get<double>(), 1e-4);
      EXPECT_EQ(r["text"], kase["passage"]);
    }
    const json p = post(
        c, "/rerank", {{"query", kase["query"]}, {"texts", {kase["passage"]}}, {"truncate", true}});
    EXPECT_NEAR(p[0]["score"].get<double>(), kase["score_sigmoid"].get<double>(), 1e-4);
    EXPECT_FALSE(p[0].contains("text"));
  }
}

TEST_F(ServerTest, SimilarityTokenizeDecodeInfoHealthMetrics) {
  const auto c = server_->client();
  const json sim =
      post(c, "/similarity",
           {{"inputs", {{"source_sentence", "Excel"}, {"sentences", {"Excel", "Schafe"}}}}});
  EXPECT_SCHEMA(sim, "SimilarityResponse");
  ASSERT_EQ(sim.size(), 2u);
  EXPECT_NEAR(sim[0].get<double>(), 1.0, 1e-5);

  const auto want = test::load_json(fixtures() / "expected" / "tokenize.json")["cases"];
  for (std::size_t i = 0; i < 5; ++i) {
    const json t = post(c, "/tokenize", {{"inputs", want[i]["text"]}});
    EXPECT_SCHEMA(t, "TokenizeResponse");
    std::vector<int> ids;
    for (const auto& tok : t[0]) ids.push_back(tok["id"]);
    EXPECT_EQ(json(ids), want[i]["ids"]);
    EXPECT_TRUE(t[0][0]["special"].get<bool>());
    // Offsets point at the token's text in the input, and "text" is that slice (as TEI).
    const std::string text = want[i]["text"];
    std::size_t located = 0;
    for (const auto& tok : t[0]) {
      if (tok["start"].is_null() || tok["stop"] == tok["start"]) continue;
      ++located;
      EXPECT_EQ(text.substr(tok["start"],
                            tok["stop"].get<std::size_t>() - tok["start"].get<std::size_t>()),
                tok["text"].get<std::string>());
      EXPECT_EQ(tok["text"].get<std::string>().rfind("\xE2\x96\x81", 0), std::string::npos);
    }
    EXPECT_GT(located, 0u);
  }
  const json plain = post(c, "/tokenize", {{"inputs", "Excel"}, {"add_special_tokens", false}});
  EXPECT_FALSE(plain[0][0]["special"].get<bool>());
  const json prompted = post(c, "/tokenize", {{"inputs", "Excel"}, {"prompt_name", "query"}});
  EXPECT_GT(prompted[0].size(), post(c, "/tokenize", {{"inputs", "Excel"}})[0].size());

  const json dec = post(c, "/decode", {{"ids", {0, 348, 9, 10, 980, 1065, 2}}});
  EXPECT_SCHEMA(dec, "DecodeResponse");
  EXPECT_EQ(dec[0], "Grundlagen der Buchhaltung");
  const json decs =
      post(c, "/decode", {{"ids", {{0, 980, 2}, {0, 348, 2}}}, {"skip_special_tokens", false}});
  ASSERT_EQ(decs.size(), 2u);
  EXPECT_NE(decs[0].get<std::string>().find("<s>"), std::string::npos);

  const json info = get(c, "/info");
  EXPECT_SCHEMA(info, "Info");
  EXPECT_EQ(info["model_type"]["embedding"]["pooling"], "mean");
  EXPECT_EQ(info["model_dtype"], "float32");
  EXPECT_EQ(info["max_input_length"], 128);
  EXPECT_EQ(info["reranker"]["model_id"], (fixtures() / "reranker").string());
  EXPECT_EQ(info["skillmatch"]["matching"], "hybrid + rerank");

  post(c, "/embed", {{"inputs", "Excel"}});
  post(c, "/rerank", {{"query", "Excel"}, {"texts", {"Tabellen"}}});
  auto h = const_cast<httplib::Client&>(c).Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  // A request is counted once its response is written (its duration includes the writing), so
  // the client can read /metrics a moment before its last request shows: poll briefly.
  const std::vector<std::string> wanted = {
      "skillmatch_requests_total{route=\"/embed\",status=\"200\"}",
      "skillmatch_request_duration_seconds_bucket{route=\"/rerank\"",
      "skillmatch_queue_size",
      "skillmatch_batch_requests_bucket",
      "skillmatch_batch_tokens_total",
      "skillmatch_inputs_total{route=\"/embed\"}"};
  std::string body;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto m = const_cast<httplib::Client&>(c).Get("/metrics");
    ASSERT_TRUE(m);
    body = m->body;
    bool all = true;
    for (const auto& series : wanted) all = all && body.find(series) != std::string::npos;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const auto& series : wanted) {
    EXPECT_NE(body.find(series), std::string::npos) << series;
  }
}

TEST_F(ServerTest, MatchWithSpansModelsAndTaxonomies) {
  const auto c = server_->client();
  const std::string text =
      "Orchestra management for music schools. Participants plan rehearsals and manage musical "
      "staff; they also keep the accounts.";
  const json r = post(c, "/v1/match", {{"text", text}, {"top", 5}, {"explain", true}});
  EXPECT_EQ(r["mode"], "hybrid");
  EXPECT_TRUE(r["reranked"].get<bool>());
  EXPECT_FALSE(r["request_id"].get<std::string>().empty());
  EXPECT_EQ(r["models"]["embedder"]["id"], (fixtures() / "embedder-mean").string());
  EXPECT_EQ(r["models"]["embedder"]["fingerprint"].get<std::string>().size(), 16u);
  EXPECT_EQ(r["models"]["reranker"]["dtype"], "float32");
  EXPECT_EQ(r["taxonomies"][0]["name"], "esco-en");
  EXPECT_TRUE(r["taxonomies"][0].contains("version"));
  ASSERT_EQ(r["results"].size(), 5u);
  for (const auto& res : r["results"]) {
    EXPECT_TRUE(res["scores"].contains("rerank_sigmoid"));
    const auto& sp = res["support"];
    const std::size_t start = sp["start"], end = sp["end"];
    ASSERT_LE(end, text.size());
    EXPECT_EQ(text.substr(start, end - start), sp["text"]);
    EXPECT_EQ(sp["method"], "embedding");
  }
  // Learning outcomes: offsets into the outcomes joined by "\n".
  const json lo = post(c, "/v1/match",
                       {{"learning_outcomes", {"plan rehearsals", "manage musical staff"}},
                        {"explain", true},
                        {"mode", "bm25"},
                        {"rerank", false}});
  ASSERT_FALSE(lo["results"].empty());
  EXPECT_EQ(lo["mode"], "bm25");
  EXPECT_FALSE(lo["reranked"].get<bool>());
  const std::string joined = "plan rehearsals\nmanage musical staff";
  for (const auto& res : lo["results"]) {
    const std::size_t start = res["support"]["start"], end = res["support"]["end"];
    EXPECT_EQ(joined.substr(start, end - start), res["support"]["text"]);
  }
  // Options by their names, with '_' or '-'.
  const json filtered = post(c, "/v1/match",
                             {{"text", text},
                              {"skill_type", "knowledge"},
                              {"top", 20},
                              {"rerank", false},
                              {"dense_weight", 0.3},
                              {"fusion", "weighted"}});
  for (const auto& res : filtered["results"]) {
    const json skill = get(c, "/v1/skills/" + std::to_string(res["skill_id"].get<int>()));
    EXPECT_EQ(skill["skill_type"], "knowledge");
  }
}

TEST_F(ServerTest, BatchSkillsAndTaxonomies) {
  auto c = server_->client();
  auto r = c.Post(
      "/v1/match/batch",
      json{{"items", {{{"id", "a"}, {"text", "music staff"}}, {{"id", 7}, {"text", "accounts"}}}},
           {"top", 2}}
          .dump(),
      "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  std::istringstream lines(r->body);
  std::vector<json> out;
  for (std::string l; std::getline(lines, l);) out.push_back(json::parse(l));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["id"], "a");
  EXPECT_EQ(out[1]["id"], 7);
  EXPECT_EQ(out[1]["results"].size(), 2u);

  const json found = get(c, "/v1/skills?q=MUSICAL&limit=3");
  ASSERT_FALSE(found.empty());
  EXPECT_LE(found.size(), 3u);
  for (const auto& s : found) {
    std::string all = s["label"];
    for (const auto& a : s["alt_labels"]) all += " " + a.get<std::string>();
    std::transform(all.begin(), all.end(), all.begin(), ::tolower);
    EXPECT_NE(all.find("musical"), std::string::npos) << all;
  }
  const json one = get(c, "/v1/skills/" + std::to_string(found[0]["id"].get<int>()));
  EXPECT_EQ(one["uri"], found[0]["uri"]);
  get(c, "/v1/skills/987654", 404);
  const json tax = get(c, "/v1/taxonomies");
  ASSERT_EQ(tax.size(), 1u);
  EXPECT_EQ(tax[0]["name"], "esco-en");
  EXPECT_EQ(tax[0]["skills"], 60);
}

TEST_F(ServerTest, FeedbackRoundTripsIntoTheExport) {
  const auto c = server_->client();
  const json skills = get(c, "/v1/skills?q=ma&limit=3");
  ASSERT_GE(skills.size(), 3u);
  const json ack = post(c, "/v1/feedback",
                        {{"text", "A course on music"},
                         {"accepted", {{{"taxonomy", "esco-en"}, {"uri", skills[0]["uri"]}}}},
                         {"rejected", {skills[1]["id"]}},
                         {"added", {skills[2]["uri"]}},
                         {"request_id", "abc"}},
                        201);
  EXPECT_EQ(ack["accepted"], 1);
  auto r = const_cast<httplib::Client&>(c).Get("/v1/feedback/export");
  ASSERT_TRUE(r);
  bool seen = false;
  std::istringstream lines(r->body);
  for (std::string l; std::getline(lines, l);) {
    const json e = json::parse(l);
    if (e["id"] != ack["id"]) continue;
    seen = true;
    EXPECT_EQ(e["query"], "A course on music");
    EXPECT_EQ(e["pos"], json({skills[0]["label"], skills[2]["label"]}));
    EXPECT_EQ(e["neg"], json({skills[1]["label"]}));
    EXPECT_EQ(e["neg_uris"], json({skills[1]["uri"]}));
  }
  EXPECT_TRUE(seen) << r->body;
  const json err = post(c, "/v1/feedback", {{"text", "x"}, {"accepted", {"no:such:skill"}}}, 422);
  EXPECT_SCHEMA(err, "ErrorResponse");
  EXPECT_NE(err["error"].get<std::string>().find("accepted[0]"), std::string::npos);
}

TEST_F(ServerTest, BadRequestsAreAnsweredWithErrorResponses) {
  auto c = server_->client();
  struct Bad {
    std::string path, body;
    int status;
  };
  const std::vector<Bad> bad = {
      {"/embed", "{not json", 400},
      {"/embed", "[1, 2]", 422},
      {"/embed", R"({"inputs": 5})", 422},
      {"/embed", R"({"inputs": "x", "normalize": "yes"})", 422},
      {"/embed", std::string("{\"inputs\": \"bad \xC3\"}"), 400},
      {"/embed", R"({"inputs": []})", 413},
      {"/embed", R"({"inputs": ["1","2","3","4","5","6","7","8","9"]})", 413},
      {"/embed", R"({"inputs": "x", "prompt_name": "nope"})", 413},
      {"/embed", "{\"inputs\": \"" + std::string(70000, 'a') + "\"}", 413},
      {"/embed", "{\"inputs\": \"" + std::string(2000, 'a') + " b\", \"truncate\": false}", 413},
      {"/embed", R"({"inputs": [[1, 2, 999999]]})", 413},
      // Found by fuzz_http_request: a number beyond double's range was an internal error, and
      // ids beyond int32's range were cast (1e30 with undefined behaviour, 4294967301 to 5).
      {"/embed", R"({"inputs": "x", "normalize": 1e999})", 400},
      {"/embed", R"({"inputs": [[0, 4294967301, 2]]})", 422},
      {"/decode", R"({"ids": [0, 1e30, 2]})", 422},
      {"/decode", R"({"ids": [[0, 2], 5]})", 422},
      {"/rerank", R"({"query": "x"})", 422},
      {"/rerank", R"({"query": "x", "texts": []})", 413},
      {"/rerank", R"({"query": 3, "texts": ["a"]})", 422},
      {"/similarity", R"({"inputs": "x"})", 422},
      {"/decode", R"({"ids": "x"})", 422},
      {"/decode", R"({"ids": [-1]})", 422},
      {"/v1/match", R"({})", 422},
      {"/v1/match", R"({"text": "  "})", 422},
      {"/v1/match", R"({"text": "x", "taxonomy": "nope"})", 422},
      {"/v1/match", R"({"text": "x", "collection": ["nope"]})", 422},
      {"/v1/match", R"({"text": "x", "top": -1})", 422},
      {"/v1/match", R"({"text": "x", "top": "3"})", 422},
      {"/v1/match", R"({"text": "x", "dense_weight": 7})", 422},
      {"/v1/match", R"({"text": "x", "colour": "blue"})", 422},
      {"/v1/match", R"({"text": "x", "embedder": "/etc"})", 422},
      {"/v1/match", R"({"text": "x", "learning_outcomes": ["y"]})", 422},
      {"/v1/match/batch", R"({"items": []})", 413},
      {"/v1/match/batch", R"({"items": [{"text": ""}]})", 422},
      {"/v1/feedback", R"({"accepted": []})", 422},
  };
  for (const Bad& b : bad) {
    auto r = c.Post(b.path, b.body, "application/json");
    ASSERT_TRUE(r) << b.path << " " << b.body.substr(0, 80);
    EXPECT_EQ(r->status, b.status) << b.path << " " << b.body.substr(0, 80) << ": " << r->body;
    json e;
    ASSERT_NO_THROW(e = json::parse(r->body)) << r->body;
    EXPECT_SCHEMA(e, "ErrorResponse");
  }
  // A feedback export's template that is not UTF-8 (found by fuzz_http_request: the JSON
  // writer's exception was an internal error).
  auto tmpl = c.Get("/v1/feedback/export?template=%7Blabel%8D");
  ASSERT_TRUE(tmpl);
  EXPECT_EQ(tmpl->status, 422) << tmpl->body;
  EXPECT_SCHEMA(json::parse(tmpl->body), "ErrorResponse");
  auto unknown = c.Get("/no/such/route");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_SCHEMA(json::parse(unknown->body), "ErrorResponse");
  // Still healthy, still right.
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(post(c, "/embed", {{"inputs", "Excel"}}).size(), 1u);
}

TEST_F(ServerTest, ManyClientsAtOnceGetTheSerialAnswers) {
  const auto c0 = server_->client();
  const std::vector<json> bodies = {
      {{"inputs", {"Excel", "music staff"}}},
      {{"query", "music"}, {"texts", {"manage musical staff", "weld metal"}}, {"raw_scores", true}},
      {{"text", "Managing the staff of an orchestra"}, {"top", 3}}};
  const std::vector<std::string> paths = {"/embed", "/rerank", "/v1/match"};
  std::vector<json> expected;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    json e = post(c0, paths[i], bodies[i]);
    if (e.is_object()) e.erase("request_id"), e.erase("timing_ms");
    expected.push_back(e);
  }
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto c = server_->client();
      for (int k = 0; k < 6; ++k) {
        const std::size_t i = static_cast<std::size_t>(t + k) % paths.size();
        auto r = c.Post(paths[i], bodies[i].dump(), "application/json");
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        json got = json::parse(r->body);
        if (got.is_object()) got.erase("request_id"), got.erase("timing_ms");
        // Batched with other requests the numbers agree to float rounding.
        if (!near(got, expected[i])) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrong, 0);
}

TEST(ServerAuth, ApiKeyCorsAndRequestIds) {
  test::TempDir dir;
  Server s(sample_workspace(dir.path()),
           {"--bm25-only", "--api-key", "s3cret", "--cors-origin", "https://portal.example"});
  auto open = s.client();
  auto r = open.Post("/v1/match", R"({"text": "music"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_SCHEMA(json::parse(r->body), "ErrorResponse");
  EXPECT_EQ(open.Get("/health")->status, 200);  // open for load balancers
  auto page = open.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_EQ(open.Get("/app.js")->status, 200);

  auto keyed = s.client("s3cret");
  httplib::Headers h = {{"X-Request-Id", "req-42"}};
  r = keyed.Post("/v1/match", h, R"({"text": "music", "mode": "bm25"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("X-Request-Id"), "req-42");
  EXPECT_EQ(json::parse(r->body)["request_id"], "req-42");
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://portal.example");
  EXPECT_EQ(r->get_header_value("Server-Timing").rfind("total;dur=", 0), 0u);
  EXPECT_EQ(keyed.Post("/embed", R"({"inputs": "x"})", "application/json")->status,
            424);  // no model
  const json info = json::parse(keyed.Get("/info")->body);
  EXPECT_SCHEMA(info, "Info");
  EXPECT_EQ(info["skillmatch"]["matching"], "bm25 only (no embedding model)");
  auto pre = open.Options("/v1/match");
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->status, 204);
  EXPECT_NE(pre->get_header_value("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_EQ(s.stop(), 0);
  EXPECT_NE(s.log().find("\"POST /v1/match\" 200"), std::string::npos);
}

// Feedback acknowledged before a kill -9 is there after a restart; SIGTERM lets the requests in
// flight finish and exits 0.
TEST(ServerLifecycle, AcknowledgedFeedbackSurvivesKill9AndSigtermDrains) {
  test::TempDir dir;
  const fs::path ws = sample_workspace(dir.path());
  std::vector<int> acknowledged;
  {
    Server s(ws, {"--bm25-only"});
    const std::string uri = get(s.client(), "/v1/skills?q=music&limit=1")[0]["uri"];
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::thread writer([&] {
      auto c = s.client();
      for (int i = 0; !stop; ++i) {
        auto r = c.Post("/v1/feedback",
                        json{{"text", "course " + std::to_string(i)}, {"accepted", {uri}}}.dump(),
                        "application/json");
        if (!r || r->status != 201) break;
        const std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(json::parse(r->body)["id"]);
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    {
      const std::lock_guard<std::mutex> lock(mu);
      s.kill9();
    }
    stop = true;
    writer.join();
  }
  ASSERT_GT(acknowledged.size(), 5u);
  Server s(ws, {"-e", (fixtures() / "embedder-mean").string()});
  std::set<int> stored;
  auto r = s.client().Get("/v1/feedback/export");
  std::istringstream lines(r->body);
  for (std::string l; std::getline(lines, l);) stored.insert(json::parse(l)["id"].get<int>());
  for (int id : acknowledged) EXPECT_TRUE(stored.count(id)) << "feedback " << id << " was lost";

  // A long batch in flight when SIGTERM arrives still completes: SIGTERM is sent once its first
  // chunk (16 results) has arrived, so the request is surely in the server's hands.
  std::vector<json> items;
  for (int i = 0; i < 40; ++i) items.push_back({{"id", i}, {"text", "music " + std::to_string(i)}});
  std::atomic<bool> first_chunk{false};
  std::string body;
  std::thread slow([&] {
    auto c = s.client();
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/match/batch";
    req.body = json{{"items", items}}.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
      body.append(data, n);
      first_chunk = true;
      return true;
    };
    auto res = c.send(req);
    first_chunk = true;  // also when it failed: the main thread must not wait for ever
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 40);
  });
  while (!first_chunk) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.stop(), 0);
  slow.join();
  EXPECT_NE(s.log().find("stopping (SIGTERM)"), std::string::npos);
}

// A port that another server holds is an error: no second server shares it (SO_REUSEPORT would
// let it bind and take half of the connections).
TEST(ServerLifecycle, APortInUseIsRefused) {
  test::TempDir dir;
  const fs::path ws = sample_workspace(dir.path());
  Server s(ws, {});
  // With no --embedder the service runs skillmatch's built-in model.
  const json info = json::parse(s.client().Get("/info")->body);
  EXPECT_NE(info["model_id"].get<std::string>().find("skillmatch-esco-small"), std::string::npos)
      << info.dump();
  EXPECT_EQ(info["skillmatch"]["matching"], "hybrid");
  const std::string port = std::to_string(s.port());
  const fs::path err = dir.path() / "second.err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::execl(kCli.c_str(), kCli.c_str(), "serve", "-w", ws.c_str(), "--port", port.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // A second server that binds runs until it is killed: give it 60 s to fail.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 600 && !exited; ++i) {
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ASSERT_TRUE(exited) << "a second server on port " << port << " started";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  EXPECT_NE(test::slurp(err).find("cannot listen on 127.0.0.1:" + port), std::string::npos)
      << test::slurp(err);
  const auto health = s.client().Get("/health");  // the first server goes on
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// An import into the workspace while the service runs: the service embeds the new skills in the
// background (the match routes and /health answer 503 meanwhile, never 4xx or 500), then
// matches over them; the model routes go on throughout.
TEST(ServerLifecycle, AnImportWhileServingIsEmbeddedInTheBackground) {
  test::TempDir dir;
  const fs::path ws = sample_workspace(dir.path());
  Server s(ws, {"-e", (fixtures() / "embedder-mean").string()});
  auto c = s.client();
  const json before = post(c, "/v1/match", {{"text", "Kompetenzen der Lehrkraft"}, {"top", 50}});
  for (const auto& r : before["results"]) EXPECT_NE(r["taxonomy"], "greta");

  const std::string import =
      kCli + " import greta '" +
      (fs::path(SKILLMATCH_SHIPPED_DATA) / "greta" / "greta_facets_de.csv").string() + "' -w '" +
      ws.string() + "' > /dev/null";
  ASSERT_EQ(std::system(import.c_str()), 0);

  std::set<int> statuses;
  bool found = false;
  for (int i = 0; i < 600 && !found; ++i) {
    auto r = c.Post("/v1/match",
                    json{{"text", "Kompetenzen der Lehrkraft"}, {"taxonomy", "greta"}}.dump(),
                    "application/json");
    ASSERT_TRUE(r);
    statuses.insert(r->status);
    if (r->status == 503) {
      EXPECT_SCHEMA(json::parse(r->body), "ErrorResponse");
      EXPECT_EQ(post(c, "/embed", {{"inputs", "Excel"}}).size(), 1u);  // the models serve on
    } else if (r->status == 200) {
      const json j = json::parse(r->body);
      found = !j["results"].empty() && j["results"][0]["taxonomy"] == "greta";
    }
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(found) << s.log();
  for (int st : statuses) EXPECT_TRUE(st == 200 || st == 503) << st;
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_NE(s.log().find("embedding its new skills"), std::string::npos) << s.log();
}

}  // namespace
}  // namespace skillmatch
