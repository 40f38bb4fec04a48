// The routes of Hugging Face text-embeddings-inference, to the letter of its OpenAPI document
// (docs/openapi.json of TEI 1.7): /embed and /, /v1/embeddings and /embeddings (OpenAI), /rerank,
// /similarity, /tokenize, /decode, /health, /info, /metrics.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>

#include "server/http.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch::server {
namespace {

// base64 (RFC 4648) of raw bytes: what the OpenAI client asks for by default.
std::string base64(const void* data, std::size_t n) {
  static const char* const kDigits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t b = (std::uint32_t{p[i]} << 16) |
                            (i + 1 < n ? std::uint32_t{p[i + 1]} << 8 : 0) |
                            (i + 2 < n ? std::uint32_t{p[i + 2]} : 0);
    out += kDigits[(b >> 18) & 63];
    out += kDigits[(b >> 12) & 63];
    out += i + 1 < n ? kDigits[(b >> 6) & 63] : '=';
    out += i + 2 < n ? kDigits[b & 63] : '=';
  }
  return out;
}

const std::string& embedder_of(Service& s) {
  if (s.options.embedder.empty()) {
    throw HttpError{424, "Backend",
                    "the service has no embedding model (start it with --embedder)"};
  }
  return s.options.embedder;
}

const std::string& reranker_of(Service& s) {
  if (s.options.reranker.empty()) {
    throw HttpError{424, "Backend", "the service has no reranker (start it with --reranker)"};
  }
  return s.options.reranker;
}

// TEI's truncation_direction: "Right" (default) or "Left" (either case).
bool truncate_left(const nlohmann::json& body) {
  const std::string d = text_member(body, "truncation_direction", false);
  if (d.empty() || d == "Right" || d == "right") return false;
  if (d == "Left" || d == "left") return true;
  throw HttpError{422, "Validation", "`truncation_direction` must be Left or Right, not " + d};
}

// The embedding options of a TEI request body.
EmbedOptions embed_options(Service& s, const nlohmann::json& body, bool with_normalize) {
  EmbedOptions o;
  o.model = embedder_of(s);
  o.settings = s.options.settings;
  o.normalize = with_normalize ? flag_member(body, "normalize", true) : true;
  o.truncate = flag_member(body, "truncate", s.options.auto_truncate);
  o.truncate_left = truncate_left(body);
  // As in TEI: no prompt unless prompt_name is given or the model's default_prompt_name says so.
  o.prompt_name = text_member(body, "prompt_name", false);
  return o;
}

// Token ids: JSON integers of int32's range. (nlohmann's get<TokenIds>() casts any number: a
// float such as 1e30 with undefined behaviour, 4294967301 to 5.)
bool is_token_id(const nlohmann::json& x) {
  if (x.is_number_unsigned()) return x.get<std::uint64_t>() <= INT32_MAX;
  return x.is_number_integer() && x.get<std::int64_t>() >= INT32_MIN &&
         x.get<std::int64_t>() <= INT32_MAX;
}

// `list` (a JSON array) as token ids; 422 naming `key` when one is not a token id.
TokenIds token_ids(const nlohmann::json& list, const char* key) {
  TokenIds out;
  for (const auto& x : list) {
    if (!is_token_id(x)) {
      throw HttpError{422, "Validation",
                      std::string("`") + key + "` holds " +
                          (x.is_number() ? x.dump() : std::string("a ") + x.type_name()) +
                          ", not a token id (an integer of 32 bits)"};
    }
    out.push_back(static_cast<std::int32_t>(x.get<std::int64_t>()));
  }
  return out;
}

// `inputs` of /embed: a string, token ids, or a list of either (TEI's Input).
struct Inputs {
  std::vector<std::string> texts;  // when the inputs are texts
  std::vector<TokenIds> ids;       // when they are token ids
};

Inputs read_inputs(const nlohmann::json& body, const char* key, std::size_t max) {
  const nlohmann::json* v = member(body, key);
  if (!v) throw HttpError{422, "Validation", std::string("missing field `") + key + "`"};
  auto is_ids = [](const nlohmann::json& j) {
    return j.is_array() && !j.empty() &&
           std::all_of(j.begin(), j.end(), [](const auto& x) { return x.is_number_integer(); });
  };
  Inputs in;
  if (v->is_string()) return {{v->get<std::string>()}, {}};
  if (is_ids(*v)) {
    in.ids.push_back(token_ids(*v, key));
    return in;
  }
  if (!v->is_array()) {
    throw HttpError{422, "Validation",
                    std::string("`") + key + "` must be a string, token ids or a list of them"};
  }
  for (const auto& item : *v) {
    if (item.is_string() && in.ids.empty()) {
      in.texts.push_back(item.get<std::string>());
    } else if (is_ids(item) && in.texts.empty()) {
      in.ids.push_back(token_ids(item, key));
    } else {
      throw HttpError{422, "Validation",
                      std::string("`") + key +
                          "` must be a list of strings or a list of token id lists, not a mix "
                          "or " +
                          item.type_name()};
    }
  }
  const std::size_t n = in.texts.size() + in.ids.size();
  if (n == 0) throw HttpError{413, "Validation", std::string("`") + key + "` cannot be empty"};
  if (n > max) {
    throw HttpError{
        413, "Validation",
        "batch size " + std::to_string(n) + " > maximum allowed batch size " + std::to_string(max)};
  }
  return in;
}

Matrix embed_inputs(Service& s, const Inputs& in, const EmbedOptions& o) {
  return in.ids.empty() ? s.engine->embed(in.texts, o) : s.engine->embed_ids(in.ids, o);
}

nlohmann::json rows(const Matrix& m) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < m.rows; ++i) {
    out.push_back(std::vector<float>(m.row(i), m.row(i) + m.cols));
  }
  return out;
}

// Byte offsets of each token in `text`: the token's text (without the U+2581 word mark) found
// from where the previous one ended; null for special tokens and tokens the normalizer changed
// beyond recognition. A token's "text" is the slice it covers, else its piece.
nlohmann::json token_objects(Service& s, const std::string& model, const std::string& text,
                             const TokenIds& ids) {
  const std::vector<std::string> pieces = s.engine->pieces(ids, model);
  nlohmann::json out = nlohmann::json::array();
  std::size_t cursor = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    nlohmann::json t = {{"id", ids[i]}, {"text", pieces[i]}};
    const bool special = s.engine->is_special_token(ids[i], model);
    t["special"] = special;
    std::string bare = pieces[i];
    while (bare.rfind("\xE2\x96\x81", 0) == 0) bare.erase(0, 3);
    nlohmann::json start = nullptr, stop = nullptr;
    if (!special) {
      if (bare.empty()) {
        start = stop = cursor;
      } else {
        const std::size_t pos = text.find(bare, cursor);
        if (pos != std::string::npos && pos - cursor <= 16) {
          start = pos;
          stop = pos + bare.size();
          cursor = pos + bare.size();
        }
      }
    }
    // As TEI: the token's text is the slice of the input it covers (the piece when unknown).
    if (!start.is_null() && stop.get<std::size_t>() > start.get<std::size_t>()) {
      t["text"] =
          text.substr(start.get<std::size_t>(), stop.get<std::size_t>() - start.get<std::size_t>());
    }
    t["start"] = start;
    t["stop"] = stop;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

void add_tei_routes(httplib::Server& svr, Service& s, const Wrap& wrap) {
  const auto max_batch = s.options.max_client_batch_size;

  const Handler embed = [&s, max_batch](const httplib::Request& req, httplib::Response& res) {
    require_ready(s);
    const nlohmann::json body = parse_body(req);
    const EmbedOptions o = embed_options(s, body, true);
    const Inputs in = read_inputs(body, "inputs", max_batch);
    const Matrix m = embed_inputs(s, in, o);
    s.metrics.count_inputs("/embed", m.rows);
    reply_json(res, rows(m));
  };
  svr.Post("/embed", wrap("/embed", embed, ErrorStyle::kTei));
  svr.Post("/", wrap("/", embed, ErrorStyle::kTei));

  const Handler openai = [&s, max_batch](const httplib::Request& req, httplib::Response& res) {
    require_ready(s);
    const nlohmann::json body = parse_body(req);
    const EmbedOptions o = embed_options(s, body, false);  // truncate: --auto-truncate, as TEI
    const std::string format = text_member(body, "encoding_format", false);
    if (!format.empty() && format != "float" && format != "base64") {
      throw HttpError{422, "Validation",
                      "`encoding_format` must be float or base64, not " + format};
    }
    const Inputs in = read_inputs(body, "input", max_batch);
    std::size_t tokens = 0;  // the ids embedded: prompt and special tokens included
    const Matrix m = in.ids.empty() ? s.engine->embed(in.texts, o, &tokens)
                                    : s.engine->embed_ids(in.ids, o, &tokens);
    nlohmann::ordered_json j;
    j["object"] = "list";
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < m.rows; ++i) {
      nlohmann::ordered_json e;
      e["object"] = "embedding";
      if (format == "base64") {
        e["embedding"] = base64(m.row(i), m.cols * sizeof(float));
      } else {
        e["embedding"] = std::vector<float>(m.row(i), m.row(i) + m.cols);
      }
      e["index"] = i;
      data.push_back(std::move(e));
    }
    j["data"] = std::move(data);
    const std::string model = text_member(body, "model", false);
    j["model"] = model.empty() ? o.model : model;
    j["usage"] = {{"prompt_tokens", tokens}, {"total_tokens", tokens}};
    s.metrics.count_inputs("/v1/embeddings", m.rows);
    reply_json(res, j);
  };
  svr.Post("/v1/embeddings", wrap("/v1/embeddings", openai, ErrorStyle::kOpenAi));
  svr.Post("/embeddings", wrap("/embeddings", openai, ErrorStyle::kOpenAi));

  svr.Post("/rerank",
           wrap(
               "/rerank",
               [&s, max_batch](const httplib::Request& req, httplib::Response& res) {
                 require_ready(s);
                 const nlohmann::json body = parse_body(req);
                 RerankOptions o;
                 o.model = reranker_of(s);
                 o.settings = s.options.settings;
                 const std::string query = text_member(body, "query", true);
                 const std::vector<std::string> texts = texts_member(body, "texts", max_batch);
                 const bool raw = flag_member(body, "raw_scores", false);
                 const bool return_text = flag_member(body, "return_text", false);
                 o.pair.truncate = flag_member(body, "truncate", s.options.auto_truncate);
                 if (truncate_left(body)) {
                   throw HttpError{422, "Validation",
                                   "`truncation_direction` Left is not supported by /rerank"};
                 }
                 std::vector<TextPair> pairs;
                 for (const auto& t : texts) pairs.push_back({query, t});
                 const std::vector<float> logits = s.engine->rerank(pairs, o);
                 std::vector<std::size_t> order(texts.size());
                 for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
                 std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                   return logits[a] > logits[b];
                 });
                 nlohmann::ordered_json out = nlohmann::ordered_json::array();
                 for (const std::size_t i : order) {
                   nlohmann::ordered_json r;
                   r["index"] = i;
                   r["score"] = raw ? logits[i] : sigmoid(logits[i]);
                   if (return_text) r["text"] = texts[i];
                   out.push_back(std::move(r));
                 }
                 s.metrics.count_inputs("/rerank", texts.size());
                 reply_json(res, out);
               },
               ErrorStyle::kTei));

  svr.Post(
      "/similarity",
      wrap(
          "/similarity",
          [&s, max_batch](const httplib::Request& req, httplib::Response& res) {
            require_ready(s);
            const nlohmann::json body = parse_body(req);
            const nlohmann::json* inputs = member(body, "inputs");
            if (!inputs || !inputs->is_object()) {
              throw HttpError{422, "Validation",
                              "`inputs` must be an object {\"source_sentence\", \"sentences\"}"};
            }
            const nlohmann::json* params = member(body, "parameters");
            const nlohmann::json empty = nlohmann::json::object();
            if (params && !params->is_object()) {
              throw HttpError{422, "Validation", "`parameters` must be an object"};
            }
            const EmbedOptions o = embed_options(s, params ? *params : empty, false);
            std::vector<std::string> texts = {text_member(*inputs, "source_sentence", true)};
            for (auto& t : texts_member(*inputs, "sentences", max_batch))
              texts.push_back(std::move(t));
            EmbedOptions normalized = o;
            normalized.normalize = true;  // cosine
            const Matrix m = s.engine->embed(texts, normalized);
            const float* source = m.row(0);
            double a = 0;  // the source's squared norm, once
            for (std::size_t k = 0; k < m.cols; ++k) a += double(source[k]) * source[k];
            std::vector<float> sims;
            for (std::size_t i = 1; i < m.rows; ++i) {
              double dot = 0, b = 0;
              for (std::size_t k = 0; k < m.cols; ++k) {
                dot += double(source[k]) * m.row(i)[k];
                b += double(m.row(i)[k]) * m.row(i)[k];
              }
              sims.push_back(a > 0 && b > 0 ? static_cast<float>(dot / std::sqrt(a * b)) : 0.0f);
            }
            s.metrics.count_inputs("/similarity", texts.size());
            reply_json(res, nlohmann::json(sims));
          },
          ErrorStyle::kTei));

  svr.Post("/tokenize",
           wrap(
               "/tokenize",
               [&s, max_batch](const httplib::Request& req, httplib::Response& res) {
                 const nlohmann::json body = parse_body(req);
                 const std::string model =
                     s.options.embedder.empty() ? reranker_of(s) : s.options.embedder;
                 const std::vector<std::string> texts = texts_member(body, "inputs", max_batch);
                 TokenizeOptions o;
                 o.model = model;
                 o.add_special_tokens = flag_member(body, "add_special_tokens", true);
                 o.prompt_name = text_member(body, "prompt_name", false);
                 o.max_length = std::size_t{1} << 30;  // TEI's /tokenize does not truncate
                 std::string prompt;
                 if (!s.options.embedder.empty()) {
                   // As TEI: without prompt_name, the model's default prompt (what /embed uses).
                   require_ready(s);
                   if (o.prompt_name.empty() && s.embedder_info) {
                     o.prompt_name = s.embedder_info->default_prompt_name;
                   }
                 }
                 if (o.prompt_name == "none") o.prompt_name.clear();
                 if (!o.prompt_name.empty()) {
                   require_ready(s);
                   const auto prompts = s.embedder_info ? s.embedder_info->prompts
                                                        : std::map<std::string, std::string>{};
                   auto it = prompts.find(o.prompt_name);
                   if (it == prompts.end()) {
                     throw HttpError{
                         413, "Validation",
                         "prompt_name `" + o.prompt_name + "` is not in the model's prompts"};
                   }
                   prompt = it->second;
                 }
                 const std::vector<TokenIds> ids = s.engine->tokenize(texts, o);
                 nlohmann::json out = nlohmann::json::array();
                 for (std::size_t i = 0; i < ids.size(); ++i) {
                   out.push_back(token_objects(s, model, prompt + texts[i], ids[i]));
                 }
                 reply_json(res, out);
               },
               ErrorStyle::kTei));

  svr.Post("/decode",
           wrap(
               "/decode",
               [&s, max_batch](const httplib::Request& req, httplib::Response& res) {
                 const nlohmann::json body = parse_body(req);
                 const std::string model =
                     s.options.embedder.empty() ? reranker_of(s) : s.options.embedder;
                 const nlohmann::json* v = member(body, "ids");
                 if (!v || !v->is_array()) {
                   throw HttpError{422, "Validation",
                                   "`ids` must be a list of token ids or a list of lists"};
                 }
                 std::vector<TokenIds> seqs;
                 if (!v->empty() && (*v)[0].is_array()) {
                   for (const auto& list : *v) {
                     if (!list.is_array()) {
                       throw HttpError{422, "Validation",
                                       "`ids` must be a list of token ids or a list of lists"};
                     }
                     seqs.push_back(token_ids(list, "ids"));
                   }
                 } else {
                   seqs.push_back(token_ids(*v, "ids"));
                 }
                 for (const auto& ids : seqs) {
                   for (const auto id : ids) {
                     if (id < 0)
                       throw HttpError{422, "Validation", "`ids` must hold non-negative integers"};
                   }
                 }
                 if (seqs.size() > max_batch) {
                   throw HttpError{413, "Validation",
                                   "batch size " + std::to_string(seqs.size()) +
                                       " > maximum allowed batch size " +
                                       std::to_string(max_batch)};
                 }
                 const bool skip = flag_member(body, "skip_special_tokens", true);
                 nlohmann::json out = nlohmann::json::array();
                 for (const auto& ids : seqs) out.push_back(s.engine->decode(ids, model, skip));
                 reply_json(res, out);
               },
               ErrorStyle::kTei));

  svr.Get("/health", wrap(
                         "/health",
                         [&s](const httplib::Request&, httplib::Response& res) {
                           require_current(s);
                           res.status = 200;
                         },
                         ErrorStyle::kTei));

  svr.Get(
      "/info",
      wrap(
          "/info",
          [&s](const httplib::Request&, httplib::Response& res) {
            const ServeOptions& o = s.options;
            // The loader writes the model descriptions once, then sets models_loaded.
            const std::optional<ModelInfo> none;
            const bool loaded = s.models_loaded;
            const std::optional<ModelInfo>& embedder_info = loaded ? s.embedder_info : none;
            const std::optional<ModelInfo>& reranker_info = loaded ? s.reranker_info : none;
            nlohmann::ordered_json j;
            auto classifier = [] {
              return nlohmann::json{{"id2label", {{"0", "LABEL_0"}}},
                                    {"label2id", {{"LABEL_0", 0}}}};
            };
            // Until the models are loaded (see /health), what the options say.
            auto describe = [&](const std::string& name, const std::optional<ModelInfo>& info) {
              j["model_id"] = name;
              j["model_sha"] = info ? nlohmann::json(info->fingerprint) : nlohmann::json();
              j["model_dtype"] = info ? dtype_name(info->dtype) : dtype_name(o.settings.dtype);
            };
            std::size_t max_input = 512;
            if (!o.embedder.empty()) {
              describe(o.embedder, embedder_info);
              j["model_type"] = {
                  {"embedding", {{"pooling", embedder_info ? embedder_info->pooling : "unknown"}}}};
              if (embedder_info) max_input = embedder_info->max_seq_length;
            } else if (!o.reranker.empty()) {
              describe(o.reranker, reranker_info);
              j["model_type"] = {{"reranker", classifier()}};
              if (reranker_info) max_input = reranker_info->max_length;
            } else {
              j["model_id"] = "bm25";
              j["model_sha"] = nullptr;
              j["model_dtype"] = "none";
              j["model_type"] = {{"embedding", {{"pooling", "none"}}}};
            }
            j["max_concurrent_requests"] = o.max_concurrent_requests;
            j["max_input_length"] = max_input;
            j["max_batch_tokens"] = o.max_batch_tokens;
            j["max_batch_requests"] = nullptr;
            j["max_client_batch_size"] = o.max_client_batch_size;
            j["auto_truncate"] = o.auto_truncate;
            j["tokenization_workers"] = o.max_concurrent_requests;
            j["version"] = s.version;
            j["sha"] = nullptr;
            j["docker_label"] = nullptr;
            if (!o.reranker.empty()) {
              const auto& r = reranker_info;
              j["reranker"] = {
                  {"model_id", o.reranker},
                  {"model_sha", r ? nlohmann::json(r->fingerprint) : nlohmann::json()},
                  {"model_dtype", r ? dtype_name(r->dtype) : dtype_name(o.settings.dtype)},
                  {"max_input_length", r ? r->max_length : 512}};
            } else {
              j["reranker"] = nullptr;
            }
            // Listed once ready (before, the workspace may still be being created).
            nlohmann::json taxonomies = nlohmann::json::array();
            if (s.ready) {
              for (const auto& t : s.engine->taxonomies()) {
                taxonomies.push_back({{"name", t.name}, {"version", t.version}});
              }
            }
            j["skillmatch"] = {{"ready", s.ready.load()},
                               {"status", s.status_text()},
                               {"matching", o.embedder.empty()   ? "bm25 only (no embedding model)"
                                            : o.reranker.empty() ? "hybrid"
                                                                 : "hybrid + rerank"},
                               {"workspace", s.engine->workspace_dir().string()},
                               {"taxonomies", taxonomies},
                               {"batching", o.batching}};
            reply_json(res, j);
          },
          ErrorStyle::kTei));

  svr.Get("/metrics", wrap(
                          "/metrics",
                          [&s](const httplib::Request&, httplib::Response& res) {
                            res.set_content(s.metrics.render(s.engine->stats()),
                                            "text/plain; version=0.0.4");
                          },
                          ErrorStyle::kTei));
}

}  // namespace skillmatch::server
