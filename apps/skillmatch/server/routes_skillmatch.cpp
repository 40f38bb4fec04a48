// skillmatch's own routes: /v1/match (with supporting spans), /v1/match/batch (JSON Lines,
// streamed), /v1/skills, /v1/taxonomies, /v1/feedback and its export.
#include <memory>

#include "server/http.h"
#include "skillmatch/core/utf8.h"

namespace skillmatch::server {
namespace {

// Fields of the body that are not match options.
const std::set<std::string> kMatchFields = {"text", "learning-outcomes", "items", "texts",
                                            "request-id"};

MatchOptions match_options(Service& s, const nlohmann::json& body) {
  MatchOptions o = s.match_defaults;
  try {
    // The models (and auto-index) are the service's: a request naming them is refused.
    static const std::set<std::string> service_owned =
        match_option_table().names_in(kScopeRequest, false);
    match_option_table().set_object(o, body, kMatchFields, service_owned);
  } catch (const Error& e) {
    throw HttpError{422, "Validation", e.what()};
  }
  if (o.search.mode != RetrievalMode::kBm25 && o.embedder.empty()) {
    throw HttpError{422, "Validation",
                    std::string("mode: ") + retrieval_mode_name(o.search.mode) +
                        " retrieval needs an embedding model; the service runs BM25 only"};
  }
  return o;
}

// The text of a match body: "text", or "learning_outcomes" joined by "\n" (offsets of supporting
// spans refer to that joined text).
std::string match_text(const nlohmann::json& body) {
  const nlohmann::json* outcomes = member(body, "learning_outcomes");
  const nlohmann::json* text = member(body, "text");
  if (outcomes && text) {
    throw HttpError{422, "Validation", "give `text` or `learning_outcomes`, not both"};
  }
  if (!outcomes) return text_member(body, "text", true);
  if (!outcomes->is_array() || outcomes->empty()) {
    throw HttpError{422, "Validation", "`learning_outcomes` must be a non-empty list of strings"};
  }
  std::string joined;
  for (const auto& o : *outcomes) {
    if (!o.is_string()) {
      throw HttpError{422, "Validation", "`learning_outcomes` must be a list of strings"};
    }
    if (!joined.empty()) joined += "\n";
    joined += o.get<std::string>();
  }
  return joined;
}

nlohmann::ordered_json skill_json(const Skill& s) {
  nlohmann::ordered_json j;
  j["id"] = s.id;
  j["taxonomy"] = s.taxonomy;
  j["uri"] = s.record.uri;
  j["label"] = s.record.label;
  j["alt_labels"] = s.record.alt_labels;
  j["description"] = s.record.description;
  j["skill_type"] = s.record.skill_type;
  j["reuse_level"] = s.record.reuse_level;
  j["collections"] = s.collections;
  j["broader"] = s.record.broader;
  return j;
}

nlohmann::ordered_json result_json(const MatchResult& r) {
  nlohmann::ordered_json j;
  j["rank"] = r.rank;
  j["skill_id"] = r.skill.id;
  j["taxonomy"] = r.skill.taxonomy;
  j["uri"] = r.skill.record.uri;
  j["label"] = r.skill.record.label;
  j["score"] = r.score;
  nlohmann::ordered_json sc = nlohmann::ordered_json::object();
  if (r.cosine) sc["cosine"] = *r.cosine;
  if (r.bm25) sc["bm25"] = *r.bm25;
  if (r.fused) sc["fused"] = *r.fused;
  if (r.rerank_logit) sc["rerank_logit"] = *r.rerank_logit;
  if (r.rerank_sigmoid) sc["rerank_sigmoid"] = *r.rerank_sigmoid;
  j["scores"] = sc;
  if (r.support) {
    j["support"] = {{"text", r.support->text},
                    {"start", r.support->start},
                    {"end", r.support->end},
                    {"score", r.support->score},
                    {"method", r.support->method}};
  }
  return j;
}

nlohmann::ordered_json results_json(const std::vector<MatchResult>& results) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& r : results) a.push_back(result_json(r));
  return a;
}

// The models and taxonomies every match response names.
struct Provenance {
  nlohmann::ordered_json models, taxonomies;
};

Provenance provenance(Service& s) {
  Provenance p;
  auto model = [](const std::optional<ModelInfo>& i) -> nlohmann::ordered_json {
    if (!i) return nullptr;
    return {{"id", i->name}, {"fingerprint", i->fingerprint}, {"dtype", dtype_name(i->dtype)}};
  };
  p.models["embedder"] = model(s.embedder_info);
  p.models["reranker"] = model(s.reranker_info);
  p.taxonomies = nlohmann::ordered_json::array();
  for (const auto& t : s.engine->taxonomies()) {
    p.taxonomies.push_back({{"name", t.name}, {"title", t.title}, {"version", t.version}});
  }
  return p;
}

std::vector<SkillRef> skill_refs(const nlohmann::json& body, const char* key) {
  std::vector<SkillRef> out;
  const nlohmann::json* v = member(body, key);
  if (!v) return out;
  if (!v->is_array())
    throw HttpError{422, "Validation", std::string("`") + key + "` must be a list"};
  for (const auto& item : *v) {
    SkillRef r;
    if (item.is_number_integer() && item.get<std::int64_t>() > 0) {
      r.id = item.get<std::int64_t>();
    } else if (item.is_string()) {
      r.uri = item.get<std::string>();
    } else if (item.is_object()) {
      r.taxonomy = text_member(item, "taxonomy", false);
      r.uri = text_member(item, "uri", false);
      if (const nlohmann::json* id = member(item, "id"); id && id->is_number_integer()) {
        r.id = id->get<std::int64_t>();
      }
      if (r.uri.empty() && r.id == 0) {
        throw HttpError{422, "Validation",
                        std::string("an entry of `") + key + "` needs an `id` or a `uri`"};
      }
    } else {
      throw HttpError{422, "Validation",
                      std::string("`") + key +
                          "` holds skill ids, URIs or {\"taxonomy\", \"uri\"} objects, not " +
                          item.type_name()};
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void add_skillmatch_routes(httplib::Server& svr, Service& s, const Wrap& wrap) {
  svr.Post("/v1/match", wrap(
                            "/v1/match",
                            [&s](const httplib::Request& req, httplib::Response& res) {
                              require_current(s);
                              const auto t0 = std::chrono::steady_clock::now();
                              const nlohmann::json body = parse_body(req);
                              const std::string text = match_text(body);
                              const MatchOptions o = match_options(s, body);
                              const std::vector<MatchResult> results = s.engine->match(text, o);
                              const Provenance p = provenance(s);
                              nlohmann::ordered_json j;
                              j["request_id"] = current_request_id();
                              j["mode"] = retrieval_mode_name(o.search.mode);
                              j["reranked"] = o.search.rerank && !o.reranker.empty();
                              j["models"] = p.models;
                              j["taxonomies"] = p.taxonomies;
                              j["results"] = results_json(results);
                              j["timing_ms"] = std::chrono::duration<double, std::milli>(
                                                   std::chrono::steady_clock::now() - t0)
                                                   .count();
                              s.metrics.count_inputs("/v1/match", 1);
                              reply_json(res, j);
                            },
                            ErrorStyle::kSkillmatch));

  svr.Post(
      "/v1/match/batch",
      wrap(
          "/v1/match/batch",
          [&s](const httplib::Request& req, httplib::Response& res) {
            require_current(s);
            const nlohmann::json body = parse_body(req);
            auto ids = std::make_shared<std::vector<nlohmann::json>>();
            auto texts = std::make_shared<std::vector<std::string>>();
            if (const nlohmann::json* items = member(body, "items")) {
              if (!items->is_array()) throw HttpError{422, "Validation", "`items` must be a list"};
              for (const auto& it : *items) {
                if (!it.is_object()) {
                  throw HttpError{422, "Validation",
                                  "each of `items` is an object {\"id\", \"text\"}"};
                }
                ids->push_back(it.contains("id") ? it["id"] : nlohmann::json(ids->size()));
                texts->push_back(text_member(it, "text", true));
              }
              if (texts->empty()) throw HttpError{413, "Validation", "`items` cannot be empty"};
              if (texts->size() > s.options.max_client_batch_size) {
                throw HttpError{413, "Validation",
                                "batch size " + std::to_string(texts->size()) +
                                    " > maximum allowed batch size " +
                                    std::to_string(s.options.max_client_batch_size)};
              }
            } else {
              *texts = texts_member(body, "texts", s.options.max_client_batch_size);
              for (std::size_t i = 0; i < texts->size(); ++i) ids->push_back(i);
            }
            const MatchOptions o = match_options(s, body);
            check_match_texts(*texts);  // every text before the first line is sent
            s.metrics.count_inputs("/v1/match/batch", texts->size());
            // Streamed: a chunk of results as soon as it is done.
            auto next = std::make_shared<std::size_t>(0);
            Service* service = &s;
            res.set_chunked_content_provider("application/x-ndjson", [service, o, ids, texts, next](
                                                                         std::size_t,
                                                                         httplib::DataSink& sink) {
              if (*next >= texts->size()) {
                sink.done();
                return true;
              }
              constexpr std::size_t kChunk = 16;
              const std::size_t end = std::min(texts->size(), *next + kChunk);
              const std::vector<std::string> part(
                  texts->begin() + static_cast<std::ptrdiff_t>(*next),
                  texts->begin() + static_cast<std::ptrdiff_t>(end));
              std::string out;
              try {
                const auto results = service->engine->match_batch(part, o);
                for (std::size_t i = 0; i < part.size(); ++i) {
                  nlohmann::ordered_json line;
                  line["id"] = (*ids)[*next + i];
                  line["results"] = results_json(results[i]);
                  out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
                }
              } catch (const std::exception& e) {
                // The status is sent already: the stream ends with a line naming the error. (This
                // runs outside the route's error handling: nothing may escape it.)
                const auto* known = dynamic_cast<const Error*>(&e);
                out += nlohmann::json{{"error", known ? e.what() : "internal error"},
                                      {"error_type",
                                       known ? http_error(*known, ErrorStyle::kSkillmatch).type
                                             : std::string("Backend")}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       "\n";
                sink.write(out.data(), out.size());
                sink.done();
                return true;
              }
              *next = end;
              return sink.write(out.data(), out.size());
            });
          },
          ErrorStyle::kSkillmatch));

  svr.Get(R"(/v1/skills/(\d+))",
          wrap(
              "/v1/skills/{id}",
              [&s](const httplib::Request& req, httplib::Response& res) {
                std::int64_t id = 0;
                try {
                  id = std::stoll(req.matches[1].str());
                } catch (const std::exception&) {
                  throw HttpError{404, "Validation", "no skill " + req.matches[1].str()};
                }
                const auto skill = s.engine->skill(id);
                if (!skill)
                  throw HttpError{404, "Validation", "no skill with id " + std::to_string(id)};
                reply_json(res, skill_json(*skill));
              },
              ErrorStyle::kSkillmatch));

  svr.Get("/v1/skills",
          wrap(
              "/v1/skills",
              [&s](const httplib::Request& req, httplib::Response& res) {
                const std::string q = req.get_param_value("q");
                if (!is_valid_utf8(q)) throw HttpError{400, "Validation", "`q` is not valid UTF-8"};
                std::size_t limit = 10;
                if (req.has_param("limit")) {
                  try {
                    limit = parse_count("limit", req.get_param_value("limit"), 1, 100);
                  } catch (const Error& e) {
                    throw HttpError{422, "Validation", e.what()};
                  }
                }
                SkillFilter f;
                for (std::size_t i = 0; i < req.get_param_value_count("taxonomy"); ++i) {
                  f.taxonomies.push_back(req.get_param_value("taxonomy", i));
                }
                nlohmann::ordered_json out = nlohmann::ordered_json::array();
                for (const Skill& sk : s.engine->search_skills(q, limit, f))
                  out.push_back(skill_json(sk));
                reply_json(res, out);
              },
              ErrorStyle::kSkillmatch));

  svr.Get("/v1/taxonomies", wrap(
                                "/v1/taxonomies",
                                [&s](const httplib::Request&, httplib::Response& res) {
                                  nlohmann::ordered_json out = nlohmann::ordered_json::array();
                                  for (const auto& t : s.engine->taxonomies()) {
                                    SkillFilter f;
                                    f.taxonomies = {t.name};
                                    nlohmann::ordered_json j;
                                    j["name"] = t.name;
                                    j["title"] = t.title;
                                    j["version"] = t.version;
                                    j["language"] = t.language;
                                    j["skills"] = s.engine->skill_count(f);
                                    j["licence"] = t.licence;
                                    j["attribution"] = t.attribution;
                                    out.push_back(std::move(j));
                                  }
                                  reply_json(res, out);
                                },
                                ErrorStyle::kSkillmatch));

  svr.Post("/v1/feedback", wrap(
                               "/v1/feedback",
                               [&s](const httplib::Request& req, httplib::Response& res) {
                                 const nlohmann::json body = parse_body(req);
                                 FeedbackInput in;
                                 in.text = match_text(body);
                                 in.accepted = skill_refs(body, "accepted");
                                 in.rejected = skill_refs(body, "rejected");
                                 in.added = skill_refs(body, "added");
                                 in.request_id = text_member(body, "request_id", false);
                                 nlohmann::json models = {{"embedder", s.options.embedder},
                                                          {"reranker", s.options.reranker}};
                                 in.models = models.dump();
                                 const std::int64_t id = s.engine->add_feedback(in);
                                 reply_json(res,
                                            nlohmann::json{{"id", id},
                                                           {"accepted", in.accepted.size()},
                                                           {"rejected", in.rejected.size()},
                                                           {"added", in.added.size()}},
                                            201);
                               },
                               ErrorStyle::kSkillmatch));

  svr.Get("/v1/feedback/export",
          wrap(
              "/v1/feedback/export",
              [&s](const httplib::Request& req, httplib::Response& res) {
                const std::string tmpl =
                    req.has_param("template") ? req.get_param_value("template") : "{label}";
                std::string out;
                s.engine->export_feedback(tmpl,
                                          [&](const std::string& line) { out += line + "\n"; });
                res.set_content(out, "application/x-ndjson");
              },
              ErrorStyle::kSkillmatch));
}

}  // namespace skillmatch::server
