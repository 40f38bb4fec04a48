// The transport of `skillmatch serve`: cpp-httplib with the service's limits, the API key, CORS,
// request ids, timing, the access log and metrics around every route, loading and indexing in the
// background while /health says so, and a graceful stop on SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "server/http.h"
#include "skillmatch/core/time.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch::server {
namespace {

using Clock = std::chrono::steady_clock;

// Per request, on the worker thread that serves it (httplib runs routing, the handler, the
// post-routing handler and the logger of one request on one thread).
thread_local Clock::time_point t_start;
thread_local std::string t_route;
thread_local std::string t_request_id;
thread_local bool t_counted = false;  // the request is one of Service::in_flight

void log_line(const std::string& s) {
  std::fprintf(stderr, "%s %s\n", utc_now().c_str(), s.c_str());
  std::fflush(stderr);
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// A client's X-Request-Id if it is a sane token, else a fresh one.
std::string request_id(const httplib::Request& req) {
  std::string id = req.get_header_value("X-Request-Id");
  if (id.empty() || id.size() > 64) return new_request_id();
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return new_request_id();
    }
  }
  return id;
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  }
  return diff == 0 && !b.empty();
}

nlohmann::json error_body(const HttpError& e, bool openai) {
  if (openai) {
    return {{"message", e.message}, {"code", e.status}, {"error_type", e.type}, {"type", e.type}};
  }
  return {{"error", e.message}, {"error_type", e.type}};
}

const char* status_type(int status) {
  switch (status) {
    case 429:
      return "Overloaded";
    case 503:
      return "Unhealthy";
    case 424:
    case 500:
      return "Backend";
    default:
      return "Validation";
  }
}

// Signals reach the service through a pipe: the handler (in whatever thread the kernel picks;
// libraries such as OpenBLAS start threads before main that do not block signals) writes the
// signal's number, a thread of the service reads it.
int g_signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  const int saved = errno;
  (void)!::write(g_signal_pipe[1], &b, 1);
  errno = saved;
}

void install_signal_handlers() {
  if (g_signal_pipe[0] < 0)
    SM_CHECK(::pipe2(g_signal_pipe, O_CLOEXEC) == 0, ErrorKind::kIo, "pipe");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

// The next signal (blocks); -1 when the pipe is closed.
int next_signal() {
  unsigned char b = 0;
  for (;;) {
    const ssize_t n = ::read(g_signal_pipe[0], &b, 1);
    if (n == 1) return b;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

}  // namespace

nlohmann::json parse_body(const httplib::Request& req) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number beyond double's range such as 1e999.
    std::string what = e.what();
    const auto colon = what.find("]: ");
    throw HttpError{400, "Validation",
                    "the body is not valid JSON: " +
                        (colon == std::string::npos ? what : what.substr(colon + 3))};
  }
  if (!j.is_object()) {
    throw HttpError{422, "Validation",
                    std::string("the body must be a JSON object, not ") + j.type_name()};
  }
  return j;
}

const nlohmann::json* member(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::string text_member(const nlohmann::json& body, const char* key, bool required) {
  const nlohmann::json* v = member(body, key);
  if (!v) {
    if (required) throw HttpError{422, "Validation", std::string("missing field `") + key + "`"};
    return {};
  }
  if (!v->is_string()) {
    throw HttpError{422, "Validation",
                    std::string("`") + key + "` must be a string, not " + v->type_name()};
  }
  return v->get<std::string>();
}

bool flag_member(const nlohmann::json& body, const char* key, bool fallback) {
  const nlohmann::json* v = member(body, key);
  if (!v) return fallback;
  if (!v->is_boolean()) {
    throw HttpError{422, "Validation",
                    std::string("`") + key + "` must be true or false, not " + v->type_name()};
  }
  return v->get<bool>();
}

std::vector<std::string> texts_member(const nlohmann::json& body, const char* key,
                                      std::size_t max) {
  const nlohmann::json* v = member(body, key);
  if (!v) throw HttpError{422, "Validation", std::string("missing field `") + key + "`"};
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const auto& item : *v) {
      if (!item.is_string()) {
        throw HttpError{422, "Validation",
                        std::string("`") + key + "` must be a string or a list of strings; found " +
                            item.type_name()};
      }
      out.push_back(item.get<std::string>());
    }
  } else {
    throw HttpError{
        422, "Validation",
        std::string("`") + key + "` must be a string or a list of strings, not " + v->type_name()};
  }
  if (out.empty()) throw HttpError{413, "Validation", std::string("`") + key + "` cannot be empty"};
  if (out.size() > max) {
    throw HttpError{413, "Validation",
                    "batch size " + std::to_string(out.size()) + " > maximum allowed batch size " +
                        std::to_string(max)};
  }
  return out;
}

void reply_json(httplib::Response& res, const nlohmann::json& j, int status) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void reply_json(httplib::Response& res, const nlohmann::ordered_json& j, int status) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                  "application/json");
}

HttpError http_error(const Error& e, ErrorStyle style) {
  switch (e.kind()) {
    case ErrorKind::kInvalidArgument:
      return {style == ErrorStyle::kSkillmatch ? 422 : 413, "Validation", e.what()};
    case ErrorKind::kBusy:
      return {429, "Overloaded", e.what()};
    case ErrorKind::kInternal:
      return {500, "Backend", e.what()};
    default:
      return {424, "Backend", e.what()};
  }
}

const std::string& current_request_id() {
  return t_request_id;
}

void require_ready(Service& service) {
  if (!service.ready) throw HttpError{503, "Unhealthy", service.status_text()};
}

void require_current(Service& service) {
  require_ready(service);
  if (service.current && (service.options.embedder.empty() ||
                          service.engine->generation() == service.prepared_generation)) {
    return;
  }
  if (service.current) {
    service.current = false;
    {
      const std::lock_guard<std::mutex> lock(service.keeper_mu);
      service.recheck = true;
    }
    service.keeper_wake.notify_one();
    service.set_status("the workspace changed (an import): embedding its new skills");
  }
  throw HttpError{503, "Unhealthy", service.status_text()};
}

namespace {

constexpr std::chrono::seconds kCheckEvery{5};    // the keeper looks for a newer import
constexpr std::chrono::seconds kRetryAfter{30};   // and retries a failed preparation
constexpr std::chrono::seconds kDrainLimit{300};  // SIGTERM waits for requests in flight

}  // namespace

void run_keeper(Service& service) {
  Engine& engine = *service.engine;
  const ServeOptions& so = service.options;
  MatchOptions prepare = service.match_defaults;
  prepare.auto_index = true;
  std::chrono::seconds pause{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(service.keeper_mu);
      service.keeper_wake.wait_for(lock, pause,
                                   [&] { return service.stopping || service.recheck; });
      if (service.stopping) return;
      service.recheck = false;
    }
    pause = kCheckEvery;
    try {
      const bool starting = !service.ready;
      if (!starting && service.current &&
          (so.embedder.empty() || engine.generation() == service.prepared_generation)) {
        continue;
      }
      {
        const std::lock_guard<std::mutex> lock(service.keeper_mu);
        if (service.stopping) return;
        service.preparing = true;
      }
      service.current = false;
      if (starting) {
        service.set_status("loading models and the workspace");
      } else {
        service.set_status("the workspace changed (an import): embedding its new skills");
        log_line("the workspace changed: embedding its new skills");
      }
      if (!service.models_loaded) {
        if (!so.embedder.empty())
          service.embedder_info = engine.model_info(so.embedder, so.settings);
        if (!so.reranker.empty())
          service.reranker_info = engine.model_info(so.reranker, so.settings);
        service.models_loaded = true;
      }
      const std::uint64_t generation = engine.generation();
      engine.prepare(prepare);
      service.prepared_generation = generation;
      {
        const std::lock_guard<std::mutex> lock(service.keeper_mu);
        service.preparing = false;
      }
      service.current = true;
      service.ready = true;
      service.set_status("ready");
      log_line("ready");
    } catch (const std::exception& e) {
      {
        const std::lock_guard<std::mutex> lock(service.keeper_mu);
        service.preparing = false;
      }
      const std::string what = dynamic_cast<const Error*>(&e) ? e.what() : "internal error";
      service.set_status(
          std::string(service.ready ? "failed to embed the new skills: " : "failed to start: ") +
          what + " (trying again in " + std::to_string(kRetryAfter.count()) + " s)");
      log_line(std::string("error: ") + e.what());
      pause = kRetryAfter;
    }
  }
}

void init_service(Service& service, const ServeOptions& o, const std::string& version) {
  service.options = o;
  service.version = version;

  EngineOptions eo;
  eo.workspace = o.workspace;
  eo.log = [](const std::string& s) { log_line(s); };
  auto last = std::make_shared<std::pair<std::string, int>>("", -1);
  eo.progress = [&service, last](const std::string& what, std::size_t done, std::size_t total) {
    const int pct = total ? static_cast<int>(100 * done / total) : 100;
    service.set_status(what + " (" + std::to_string(done) + "/" + std::to_string(total) + ")");
    if (last->first != what || pct / 10 != last->second / 10 || done == total) {
      *last = {what, pct};
      log_line(what + ": " + std::to_string(done) + "/" + std::to_string(total));
    }
  };
  eo.batching.enabled = o.batching;
  eo.batching.max_batch_tokens = o.max_batch_tokens;
  eo.batching.max_queue = o.max_queue;
  eo.batching.max_wait = std::chrono::milliseconds(o.max_queue_wait_ms);
  eo.rerank_cache_entries = o.rerank_cache;
  service.engine = std::make_unique<Engine>(eo);

  MatchOptions& m = service.match_defaults;
  m.embedder = o.embedder;
  m.reranker = o.reranker;
  m.passage_template = o.passage_template;
  m.settings = o.settings;
  m.auto_index = false;  // the keeper embeds new skills, never a request
  if (o.embedder.empty()) m.search.mode = RetrievalMode::kBm25;
  // A wrong model folder is an error now, not after the service has started.
  if (!o.embedder.empty()) service.engine->check_model(o.embedder, ModelKind::kBiEncoder);
  if (!o.reranker.empty()) service.engine->check_model(o.reranker, ModelKind::kCrossEncoder);
}

void configure_server(httplib::Server& svr, Service& service) {
  // The handlers outlive this function: they reach the options through `service`.
  const std::size_t workers = service.options.max_concurrent_requests;
  svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  svr.set_payload_max_length(service.options.max_body_bytes);
  svr.set_tcp_nodelay(true);  // small JSON answers must not wait for a delayed ACK
  svr.set_keep_alive_max_count(10000);
  svr.set_keep_alive_timeout(10);
  svr.set_read_timeout(30);
  svr.set_write_timeout(30);

  svr.set_pre_routing_handler([&service](const httplib::Request& req, httplib::Response& res) {
    const ServeOptions& o = service.options;
    t_start = Clock::now();
    t_route = "other";
    t_request_id = request_id(req);
    if (service.draining) {
      t_route = "draining";
      res.set_header("Connection", "close");
      res.set_header("Retry-After", "1");
      reply_json(res,
                 error_body({503, "Unhealthy", "the server is shutting down"},
                            req.path == "/v1/embeddings" || req.path == "/embeddings"),
                 503);
      return httplib::Server::HandlerResponse::Handled;
    }
    ++service.in_flight;
    t_counted = true;
    if (req.method == "OPTIONS") return httplib::Server::HandlerResponse::Unhandled;
    const bool open =
        req.path == "/health" ||
        (req.method == "GET" && (req.path == "/" || req.path == "/app.js" ||
                                 req.path == "/app.css" || req.path == "/favicon.ico"));
    if (!o.api_key.empty() && !open) {
      const std::string auth = req.get_header_value("Authorization");
      if (auth.rfind("Bearer ", 0) != 0 || !equal_constant_time(auth.substr(7), o.api_key)) {
        t_route = "unauthorized";
        reply_json(res,
                   error_body({401, "Validation",
                               "missing or wrong API key (Authorization: "
                               "Bearer <key>)"},
                              req.path == "/v1/embeddings" || req.path == "/embeddings"),
                   401);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_post_routing_handler([&service](const httplib::Request& req, httplib::Response& res) {
    const ServeOptions& o = service.options;
    // A request that httplib refused before routing (a malformed request line, an over-long
    // URI) has no context of its own yet: give it one, so it does not inherit the last one's.
    if (t_request_id.empty()) {
      t_start = Clock::now();
      t_route = "malformed";
      t_request_id = request_id(req);
    }
    res.set_header("X-Request-Id", t_request_id);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_start).count();
    char timing[48];
    std::snprintf(timing, sizeof timing, "total;dur=%.1f", ms);
    res.set_header("Server-Timing", timing);
    if (!o.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", o.cors_origin);
      res.set_header("Vary", "Origin");
      res.set_header("Access-Control-Expose-Headers", "X-Request-Id, Server-Timing");
    }
  });
  svr.Options(".*", [&service](const httplib::Request&, httplib::Response& res) {
    const ServeOptions& o = service.options;
    t_route = "preflight";
    res.status = 204;
    if (!o.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Request-Id");
      res.set_header("Access-Control-Max-Age", "600");
    }
  });
  svr.set_error_handler([&service](const httplib::Request& req, httplib::Response& res) {
    const ServeOptions& o = service.options;
    if (!res.body.empty()) return;
    std::string message = res.status == 404   ? "no route " + req.method + " " + req.path
                          : res.status == 413 ? "the body is larger than " +
                                                    std::to_string(o.max_body_bytes) + " bytes"
                          : res.status == 405 ? "method not allowed"
                                              : "bad request";
    reply_json(res,
               error_body({res.status, status_type(res.status), message},
                          req.path == "/v1/embeddings" || req.path == "/embeddings"),
               res.status);
  });
  svr.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        reply_json(res, error_body({500, "Backend", "internal error"}, false), 500);
        log_line("internal error in " + req.method + " " + req.path);
      });
  svr.set_logger([&service](const httplib::Request& req, const httplib::Response& res) {
    // httplib calls the logger once the response is written (or its writing failed).
    if (t_counted) {
      t_counted = false;
      --service.in_flight;
    }
    const ServeOptions& o = service.options;
    const bool known = !t_request_id.empty();
    const double secs = known ? std::chrono::duration<double>(Clock::now() - t_start).count() : 0.0;
    service.metrics.record(known ? t_route : "malformed", res.status, secs);
    // The worker's next request starts with no context (see the post-routing handler).
    const std::string id = std::move(t_request_id);
    t_request_id.clear();
    if (!o.access_log) return;
    char line[512];
    std::snprintf(line, sizeof line, "%s \"%s %s\" %d %zuB %.1fms id=%s", req.remote_addr.c_str(),
                  req.method.c_str(), req.path.substr(0, 200).c_str(), res.status, res.body.size(),
                  secs * 1000, id.c_str());
    log_line(line);
  });

  const Wrap wrap = [](const std::string& route, Handler h, ErrorStyle style) -> Handler {
    const bool openai = style == ErrorStyle::kOpenAi;
    return [route, h, style, openai](const httplib::Request& req, httplib::Response& res) {
      t_route = route;
      try {
        h(req, res);
      } catch (const HttpError& e) {
        reply_json(res, error_body(e, openai), e.status);
      } catch (const Error& e) {
        const HttpError he = http_error(e, style);
        reply_json(res, error_body(he, openai), he.status);
        if (he.status >= 500) log_line(std::string("error in ") + route + ": " + e.what());
      } catch (const std::exception& e) {
        reply_json(res, error_body({500, "Backend", "internal error"}, openai), 500);
        log_line(std::string("internal error in ") + route + ": " + e.what());
      }
    };
  };
  add_tei_routes(svr, service, wrap);
  add_skillmatch_routes(svr, service, wrap);
  add_page_routes(svr);
}

int serve(const ServeOptions& options, const std::string& version) {
  install_signal_handlers();
  Service service;
  init_service(service, options, version);
  const ServeOptions& o = service.options;
  httplib::Server svr;
  configure_server(svr, service);

  // httplib's own socket options set SO_REUSEPORT, with which a second `serve` on the same port
  // binds too and takes half of the connections: SO_REUSEADDR alone lets a restart bind while
  // old connections linger, and a port in use is an error. The library (compiled with a listen
  // backlog of 5) drops connections when 64 clients connect at once: the backlog is raised by
  // listening again on the bound socket.
  int listen_fd = -1;
  svr.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  const int port = o.port == 0 ? svr.bind_to_any_port(o.host) : o.port;
  if (port <= 0 || (o.port != 0 && !svr.bind_to_port(o.host, o.port))) {
    throw Error(ErrorKind::kIo, "cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                    " (in use, or not an address of this machine?)");
  }
  if (listen_fd >= 0 && ::listen(listen_fd, SOMAXCONN) != 0) {
    log_line(std::string("warning: cannot raise the listen backlog: ") + std::strerror(errno));
  }
  log_line("skillmatch " + version + " listening on http://" + o.host + ":" + std::to_string(port) +
           " (workspace " + service.engine->workspace_dir().string() + ")");
  if (o.embedder.empty()) {
    log_line("no embedding model given: matching by BM25 only (TEI's embedding routes answer 424)");
  } else if (o.embedder == default_embedder().string()) {
    log_line(std::string("no --embedder given: serving skillmatch's built-in model ") +
             kDefaultEmbedderName + " (hybrid matching; --bm25-only for BM25 alone)");
  }

  // Loading and indexing in the background: /health answers 503 until they are done.
  std::thread keeper([&service] { run_keeper(service); });
  std::thread signal_thread([&svr, &service] {
    for (;;) {
      const int sig = next_signal();
      if (sig == SIGHUP) {
        log_line("SIGHUP: looking for changes of the workspace now");
        {
          const std::lock_guard<std::mutex> lock(service.keeper_mu);
          service.recheck = true;
        }
        service.keeper_wake.notify_one();
        continue;
      }
      if (sig == 0) return;  // the service stopped on its own
      log_line(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
               "): finishing the requests in flight");
      // stop() is ignored until the server runs: a signal that came during start-up waits.
      while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      // httplib's stop() cuts streamed responses off: new requests are refused (503) until
      // those in flight are done, for at most kDrainLimit.
      service.draining = true;
      const auto deadline = Clock::now() + kDrainLimit;
      while (service.in_flight > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (service.in_flight > 0) {
        log_line(std::to_string(service.in_flight.load()) + " requests still in flight after " +
                 std::to_string(kDrainLimit.count()) + " s: stopping anyway");
      }
      svr.stop();
      return;
    }
  });
  const bool ok = svr.listen_after_bind();
  // listen_after_bind returns once stop() was called and the workers have finished.
  on_signal(0);  // ends the signal thread if it still waits
  signal_thread.join();
  bool preparing = false;
  {
    const std::lock_guard<std::mutex> lock(service.keeper_mu);
    service.stopping = true;
    preparing = service.preparing;
  }
  if (preparing) {
    // Stopped while loading or embedding skills: the vectors written so far are durable and the
    // next start resumes; do not wait for the rest.
    log_line("stopped while " + service.status_text() + "; the next start resumes");
    std::fflush(stderr);
    std::_Exit(0);
  }
  service.keeper_wake.notify_one();
  keeper.join();
  log_line("stopped");
  return ok ? 0 : exit_code(ErrorKind::kIo);
}

}  // namespace skillmatch::server
