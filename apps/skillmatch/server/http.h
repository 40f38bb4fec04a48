// What the routes of `skillmatch serve` share: the service's state (one Engine, the settings, the
// metrics), the error a route raises to answer 4xx/5xx in TEI's ErrorResponse shape, and the
// helpers that read request bodies strictly.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/metrics.h"
#include "skillmatch/engine.h"

namespace skillmatch::server {

struct ServeOptions {
  std::string workspace;
  std::string embedder, reranker;
  std::string passage_template = kDefaultPassageTemplate;
  ModelSettings settings;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string cors_origin;
  std::size_t max_body_bytes = 4u << 20;
  std::size_t max_client_batch_size = 256;
  std::size_t max_concurrent_requests = 128;
  std::size_t max_queue = 1024;
  std::size_t max_queue_wait_ms = 60000;
  std::size_t max_batch_tokens = 16384;
  bool batching = true;  // false: each request runs its model work alone (for comparison)
  std::size_t rerank_cache = 200000;  // reranker scores kept (0: none)
  bool auto_truncate = false;         // TEI's --auto-truncate: truncate defaults to true
  bool access_log = true;
};

// A refusal: HTTP status, TEI's error_type ("Validation", "Backend", "Overloaded", "Unhealthy")
// and a message.
struct HttpError {
  int status;
  std::string type;
  std::string message;
};

// The service: routes read it, many threads at once.
struct Service {
  ServeOptions options;
  std::unique_ptr<Engine> engine;
  Metrics metrics;
  MatchOptions match_defaults;  // the service's models and template
  std::atomic<bool> ready{false};
  std::mutex status_mu;
  std::string status = "starting";  // what /health says until ready
  std::string version;
  // The models as loaded: written once by the loader before it sets `models_loaded`, read only
  // after seeing it set (or `ready`, which comes later).
  std::optional<ModelInfo> embedder_info, reranker_info;
  std::atomic<bool> models_loaded{false};
  // The workspace generation whose skill vectors the service has (Engine::generation()); a
  // request that finds another wakes the keeper, which embeds the new skills.
  std::atomic<std::uint64_t> prepared_generation{0};
  // False while the keeper embeds the skills of a newer import: the match routes and /health
  // answer 503 meanwhile; the model routes go on.
  std::atomic<bool> current{true};
  std::mutex keeper_mu;
  std::condition_variable keeper_wake;
  bool stopping = false;   // under keeper_mu
  bool recheck = false;    // under keeper_mu: a request saw another generation
  bool preparing = false;  // under keeper_mu: the keeper loads or embeds
  // SIGTERM sets `draining`: new requests get 503 while the `in_flight` ones (counted from
  // routing to the end of the response, a streamed one included) finish.
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};

  std::string status_text() {
    const std::lock_guard<std::mutex> lock(status_mu);
    return status;
  }
  void set_status(const std::string& s) {
    const std::lock_guard<std::mutex> lock(status_mu);
    status = s;
  }
};

// The JSON object of a request body: 400 for invalid JSON (or UTF-8), 422 for anything else than
// an object.
nlohmann::json parse_body(const httplib::Request& req);

// Member `key` of `body`: nullopt when absent or null.
const nlohmann::json* member(const nlohmann::json& body, const char* key);

// Typed members (422 naming the member when of another type).
std::string text_member(const nlohmann::json& body, const char* key, bool required);
bool flag_member(const nlohmann::json& body, const char* key, bool fallback);
// A string or a list of strings (`inputs` of TEI): at least one, at most `max` (413 otherwise),
// each valid UTF-8.
std::vector<std::string> texts_member(const nlohmann::json& body, const char* key, std::size_t max);

// Writes `j` as the response body (application/json).
void reply_json(httplib::Response& res, const nlohmann::json& j, int status = 200);
void reply_json(httplib::Response& res, const nlohmann::ordered_json& j, int status = 200);

// The route table of TEI and of skillmatch, registered on `svr` (routes_tei.cpp,
// routes_skillmatch.cpp). `wrap` runs a handler with the service's error handling and metrics.
using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
// How a route answers errors: TEI's (an invalid request is 413 "Validation", as TEI answers its
// validation errors), OpenAI-compatible TEI (the same statuses, OpenAICompatErrorResponse), or
// skillmatch's own (an invalid request is 422).
enum class ErrorStyle { kTei, kOpenAi, kSkillmatch };
using Wrap = std::function<Handler(const std::string& route, Handler handler, ErrorStyle style)>;
void add_tei_routes(httplib::Server& svr, Service& service, const Wrap& wrap);
void add_skillmatch_routes(httplib::Server& svr, Service& service, const Wrap& wrap);
// The editor's page (page_assets.cpp, generated from apps/skillmatch/server/page/).
void add_page_routes(httplib::Server& svr);

// The status and error_type of a skillmatch::Error raised inside a route.
HttpError http_error(const Error& e, ErrorStyle style);

// The id of the request the calling thread serves (X-Request-Id).
const std::string& current_request_id();

// 503 until the service has loaded its models and embedded the skills.
void require_ready(Service& service);
// require_ready, and 503 while the skills of a newer import are being embedded (a request that
// notices the change first wakes the keeper).
void require_current(Service& service);

// The steps of serve(), apart so that the HTTP fuzz target (fuzz/http_request.cpp) can run the
// same service without sockets or signals:
// `service` for `options`: its engine and matching defaults; throws when a model folder is wrong.
void init_service(Service& service, const ServeOptions& options, const std::string& version);
// The service's limits, handlers (API key, CORS, request ids, errors, access log, metrics) and
// every route on `svr`; the handlers keep references to `service`.
void configure_server(httplib::Server& svr, Service& service);
// The keeper: loads the models and embeds the skills, then again whenever an import changed the
// workspace (/health and the match routes answer 503 meanwhile). Returns once `stopping` is set.
void run_keeper(Service& service);

// Runs the service until SIGTERM/SIGINT; returns the process exit code.
int serve(const ServeOptions& options, const std::string& version);

}  // namespace skillmatch::server
