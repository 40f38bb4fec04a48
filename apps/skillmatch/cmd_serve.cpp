// serve: the HTTP service (TEI routes, skillmatch's routes, the editor's page).
#include <memory>

#include "commands.h"
#include "common.h"
#include "server/http.h"

namespace skillmatch::cli {

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<server::ServeOptions>();
  auto dtype = std::make_shared<std::string>("auto");
  CLI::App* sub = app.add_subcommand(
      "serve",
      "HTTP service: text-embeddings-inference's routes, skill matching (/v1/match), feedback "
      "and the editor's page at /");
  add_workspace_option(*sub, o->workspace);
  auto bm25_only = std::make_shared<bool>(false);
  sub->add_option("-e,--embedder", o->embedder,
                  "bi-encoder folder or Hugging Face id (default: skillmatch's built-in model)");
  sub->add_flag("--bm25-only", *bm25_only,
                "no embedding model, not even the built-in one: BM25 matching only");
  sub->add_option("-r,--reranker", o->reranker, "cross-encoder folder or Hugging Face id");
  sub->add_option("--template", o->passage_template, "passage template of the skill vectors")
      ->capture_default_str();
  sub->add_option("--dtype", *dtype, "auto, float32, bfloat16 or int8")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "float32", "bfloat16", "int8"}));
  sub->add_option("--host", o->host, "address to listen on")->capture_default_str();
  auto count = [sub](const std::string& flag, auto& target, std::size_t min, std::size_t max,
                     const std::string& help) {
    using T = std::remove_reference_t<decltype(target)>;
    sub->add_option_function<std::string>(
           flag,
           [&target, flag, min, max](const std::string& v) {
             target = static_cast<T>(parse_count(flag, v, min, max));
           },
           help + " (" + std::to_string(min) + " to " + std::to_string(max) + ", default " +
               std::to_string(target) + ")")
        ->type_name("N");
  };
  count("--port", o->port, 0, 65535, "port to listen on; 0: any free port (the log names it)");
  sub->add_option("--api-key", o->api_key,
                  "require Authorization: Bearer KEY on every route but /, its assets and "
                  "/health");
  sub->add_option("--cors-origin", o->cors_origin,
                  "allow browser requests from this origin (Access-Control-Allow-Origin)");
  count("--max-body-bytes", o->max_body_bytes, 1024, std::size_t{1} << 30,
        "largest request body; larger: 413");
  count("--max-client-batch-size", o->max_client_batch_size, 1, 100000,
        "inputs per request; more: 413");
  count("--max-concurrent-requests", o->max_concurrent_requests, 1, 4096,
        "connections served at once");
  count("--max-queue", o->max_queue, 1, 1000000, "inference jobs waiting; more: 429");
  count("--max-queue-wait-ms", o->max_queue_wait_ms, 1, 3600000, "a job that waited longer: 429");
  count("--max-batch-tokens", o->max_batch_tokens, 64, 1000000,
        "tokens of one batched pass across requests");
  count("--rerank-cache", o->rerank_cache, 0, 100000000,
        "reranker scores kept for repeated (text, skill) pairs; 0: none");
  sub->add_flag(
      "--no-batching", [o](std::int64_t) { o->batching = false; },
      "run each request's model work alone (to measure what dynamic batching gains)");
  sub->add_flag("--auto-truncate", o->auto_truncate,
                "TEI routes truncate long inputs by default instead of answering 413");
  sub->add_flag(
      "--no-access-log", [o](std::int64_t) { o->access_log = false; }, "no log line per request");
  sub->callback([o, dtype, bm25_only] {
    o->settings.dtype = parse_dtype(*dtype);
    SM_CHECK(!*bm25_only || o->embedder.empty(), ErrorKind::kInvalidArgument,
             "--bm25-only and --embedder exclude each other");
    if (!*bm25_only) use_builtin_embedder(o->embedder, o->reranker, o->settings.dtype);
    const int rc = server::serve(*o, SKILLMATCH_VERSION);
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace skillmatch::cli
