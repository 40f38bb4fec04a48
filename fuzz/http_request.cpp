// The HTTP service of `skillmatch serve` (apps/skillmatch/server/): the input is what a client
// sends on one connection (request line, headers, body; further requests when it keeps the
// connection alive), handed to cpp-httplib's request parser and the service's routes (TEI's,
// skillmatch's, the page) through a stream in memory instead of a socket: the same
// Server::process_request that serves a socket, without the threads and timeouts of one.
//
// The service is set up once per process as `serve` sets it up (init_service, configure_server,
// the keeper): the fixtures' embedder-mean and reranker, a workspace with the 60 skills of the
// ESCO export sample, an API key (the seeds send it) and a CORS origin, and small limits (body,
// batch) so that every input stays fast.
//
// A finding: an answer 500 or a body of the service's "internal error" (an exception that is not
// a refusal, an SM_ASSERT), a sanitizer report, or a service that no longer answers GET /health
// with 200 after the input.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fuzz_util.h"
#include "server/http.h"
#include "skillmatch/engine.h"

using namespace skillmatch;

namespace {

constexpr int kMaxRequests = 8;  // per connection (input)

// One connection in memory: the client's bytes to read, the service's answers collected.
class MemoryStream : public httplib::Stream {
 public:
  explicit MemoryStream(std::string_view in) : in_(in) {}

  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const std::size_t n = std::min(size, in_.size() - pos_);
    if (n) std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  using httplib::Stream::write;
  ssize_t write(const char* ptr, size_t size) override {
    // httplib writes a status line and its headers in one call, apart from the body (and an
    // interim "100 Continue" on its own).
    constexpr std::string_view kLine = "HTTP/1.1 ";
    const std::string_view chunk(ptr, size);
    if (chunk.size() >= kLine.size() + 3 && chunk.substr(0, kLine.size()) == kLine)
      statuses_.push_back(std::atoi(std::string(chunk.substr(kLine.size(), 3)).c_str()));
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

  bool at_end() const { return pos_ >= in_.size(); }
  const std::string& answer() const { return out_; }
  const std::vector<int>& statuses() const { return statuses_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string out_;
  std::vector<int> statuses_;
};

// httplib's server with its per-connection loop (process_request is protected) run on a stream.
class MemoryServer : public httplib::Server {
 public:
  // Serves the requests of one connection, as many as it holds (kMaxRequests at most), until one
  // cannot be read or the connection is to be closed.
  void serve_connection(MemoryStream& strm) {
    for (int i = 0; i < kMaxRequests && !strm.at_end(); ++i) {
      bool closed = false;
      if (!process_request(strm, i + 1 == kMaxRequests, closed, nullptr) || closed) return;
    }
  }
};

struct Env {
  server::Service service;
  MemoryServer server;
};

Env& env() {
  // Never deleted: the keeper thread and the routes use it until the process exits.
  static Env* const e = [] {
    auto* env = new Env;
    const std::filesystem::path ws = fuzz::fresh_dir("http-workspace");
    {
      EngineOptions eo;
      eo.workspace = ws;
      eo.seed_defaults = false;
      Engine engine(eo);
      ImportRequest r;
      r.format = "esco";
      r.file = SKILLMATCH_FUZZ_DATA "/esco_export_sample.zip";
      r.language = "en";
      engine.import(r);
    }
    server::ServeOptions o;
    o.workspace = ws.string();
    o.embedder = SKILLMATCH_FUZZ_FIXTURES "/embedder-mean";
    o.reranker = SKILLMATCH_FUZZ_FIXTURES "/reranker";
    o.settings.dtype = DType::kFloat32;
    o.api_key = "fuzz-key";
    o.cors_origin = "https://editor.example";
    o.max_body_bytes = 4096;
    o.max_client_batch_size = 8;
    o.max_batch_tokens = 1024;
    o.rerank_cache = 1000;
    o.access_log = false;
    server::init_service(env->service, o, "fuzz");
    server::configure_server(env->server, env->service);
    std::thread([env] { server::run_keeper(env->service); }).detach();
    // The keeper loads the models and embeds the 60 skills (a few seconds).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (!env->service.ready) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "http_request: the service did not start: %s\n",
                     env->service.status_text().c_str());
        std::abort();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return env;
  }();
  return *e;
}

// Whether a line of `answer` starts with the service's internal error: the body of an answer 500
// and the last line of a streamed answer (/v1/match/batch) whose status was sent already. (Not
// anywhere: a request's own JSON, such as the `id` of a batch item, is echoed inside a line.)
bool internal_error_line(const std::string& answer) {
  constexpr std::string_view kError = R"({"error":"internal error")";
  for (std::size_t at = answer.find(kError); at != std::string::npos;
       at = answer.find(kError, at + 1)) {
    if (at > 0 && answer[at - 1] == '\n') return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Env& e = env();
  MemoryStream conn(fuzz::as_text(data, size));
  e.server.serve_connection(conn);
  static const bool verbose = std::getenv("SKILLMATCH_FUZZ_VERBOSE") != nullptr;
  for (const int status : conn.statuses()) {
    if (verbose) std::fprintf(stderr, "http_request: answered %d\n", status);
    FUZZ_CHECK(status != 500);
  }
  FUZZ_CHECK(!internal_error_line(conn.answer()));

  // The service still answers.
  MemoryStream health("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
  e.server.serve_connection(health);
  FUZZ_CHECK(health.statuses() == std::vector<int>{200});
  return 0;
}
