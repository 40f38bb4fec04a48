#include "pipeline.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "skillmatch/catalog/taxonomy_import.h"
#include "skillmatch/core/error.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/index/indexer.h"

namespace fs = std::filesystem;

namespace skillmatch::cli {
namespace {

// The taxonomies shipped with skillmatch: $SKILLMATCH_DATA, else the source tree's data/.
fs::path shipped_data() {
  if (const char* d = std::getenv("SKILLMATCH_DATA"); d && *d) return d;
  return SKILLMATCH_DATA_DIR;
}

// What the workspace's "defaults.state" says once the shipped data is imported. Bump it when
// data/ changes ("done": ESCO skills + collections and GRETA; "done-2": + the hierarchy).
constexpr const char* kShippedDataRevision = "done-2";

}  // namespace

std::string default_workspace() {
  if (const char* w = std::getenv("SKILLMATCH_WORKSPACE"); w && *w) return w;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
    return (fs::path(x) / "skillmatch").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home ? home : ".") / ".local" / "share" / "skillmatch").string();
}

void add_workspace_option(CLI::App& sub, std::string& ws) {
  sub.add_option("-w,--workspace", ws, "workspace directory ($SKILLMATCH_WORKSPACE)")
      ->capture_default_str();
}

CLI::Option* add_repeatable(CLI::App& sub, const std::string& name, std::vector<std::string>& v,
                            const std::string& help) {
  return sub.add_option(name, v, help)
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_filter_options(CLI::App& sub, SkillFilter& filter) {
  add_repeatable(sub, "--taxonomy", filter.taxonomies, "only this taxonomy (repeatable)");
  add_repeatable(sub, "--collection", filter.collections,
                 "only ESCO collections (green, digcomp, ict, language, research, transversal)");
  add_repeatable(sub, "--skill-type", filter.skill_types,
                 "only these skill types (skill/competence, knowledge)");
  add_repeatable(sub, "--group", filter.groups,
                 "only skills below this group (code such as S1.2, URI or label; see "
                 "`skillmatch groups`)");
}

RetrievalMode parse_mode(const std::string& name) {
  if (name == "dense") return RetrievalMode::kDense;
  if (name == "bm25") return RetrievalMode::kBm25;
  SM_CHECK(name == "hybrid", ErrorKind::kInvalidArgument,
           "unknown retrieval mode '" + name + "' (dense, bm25 or hybrid)");
  return RetrievalMode::kHybrid;
}

Fusion parse_fusion(const std::string& name) {
  if (name == "weighted") return Fusion::kWeighted;
  SM_CHECK(name == "rrf", ErrorKind::kInvalidArgument,
           "unknown fusion '" + name + "' (rrf or weighted)");
  return Fusion::kRrf;
}

Bm25Weights parse_bm25_weights(const std::string& text) {
  double v[3];
  char end = 0;
  SM_CHECK(std::sscanf(text.c_str(), "%lf,%lf,%lf%c", &v[0], &v[1], &v[2], &end) == 3,
           ErrorKind::kInvalidArgument,
           "BM25 weights '" + text +
               "' are not three numbers LABEL,ALT_LABELS,DESCRIPTION (e.g. 3,2,1)");
  return {v[0], v[1], v[2]};
}

void note(const std::string& s) {
  std::cerr << "skillmatch: " << s << "\n";
}

// The import is marked in the metadata before it starts and after it ends, so that one killed
// half-way is redone by open_workspace (it is idempotent) instead of leaving a workspace
// without GRETA.
ImportStats import_with_hierarchy(Workspace& ws, const TaxonomyData& d) {
  const ImportStats s = ws.import_taxonomy(d.info, d.skills);
  if (!d.groups.empty() || !d.links.empty()) ws.set_hierarchy(d.info.name, d.groups, d.links);
  return s;
}

void import_shipped(Workspace& ws) {
  ws.set_meta("defaults.state", "importing");
  const fs::path esco = shipped_data() / "esco-de-1.1.0";
  TaxonomyData d =
      read_esco_skills(esco / "skills_de_v1.1.0_enriched.csv", "esco-de", "1.1.0", "de");
  read_esco_hierarchy(esco / "broaderRelationsSkillPillar_v1.2.csv",
                      esco / "skillGroups_de_v1.2.csv", d);
  const ImportStats s = import_with_hierarchy(ws, d);
  for (const auto& e : fs::directory_iterator(esco)) {
    const std::string f = e.path().filename().string();
    if (f.find("SkillsCollection") == std::string::npos) continue;
    ws.set_collection("esco-de", esco_collection_name(e.path()), read_esco_collection(e.path()));
  }
  const TaxonomyData g = read_greta(shipped_data() / "greta" / "greta_facets_de.csv");
  const ImportStats gs = import_with_hierarchy(ws, g);
  note("workspace " + ws.directory().string() + ": imported ESCO v1.1.0 German (" +
       std::to_string(s.added + s.updated + s.unchanged) + " skills) and GRETA 2.0.1 (" +
       std::to_string(gs.added + gs.updated + gs.unchanged) + " facets)");
  ws.set_meta("defaults.state", kShippedDataRevision);
}

Workspace open_workspace(const std::string& dir) {
  Workspace ws = Workspace::open(dir, true);
  const auto state = ws.meta("defaults.state");
  // A workspace made from an older revision of the shipped data is brought up to date (the
  // import is idempotent and touches only what changed).
  if ((!state && ws.taxonomies().empty()) || (state && *state != kShippedDataRevision)) {
    import_shipped(ws);
  }
  return ws;
}

InferenceOptions inference(const std::string& dtype, std::size_t batch) {
  InferenceOptions o;
  o.dtype = parse_dtype(dtype);
  o.batch_size = batch;
  return o;
}

bool ProgressBar::is_terminal() {
  return ::isatty(STDERR_FILENO) != 0;
}

void ProgressBar::operator()(std::size_t done, std::size_t total) {
  if (!tty_ || total == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? double(done) / secs : 0;
  const double eta = rate > 0 ? double(total - done) / rate : 0;
  const int width = 30;
  const int filled = static_cast<int>(width * double(done) / double(total));
  std::fprintf(stderr, "\r%s [%s%s] %zu/%zu  %.0f/s  ETA %d:%02d ", what.c_str(),
               std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total,
               rate, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

std::unique_ptr<AnnIndex> load_ann(const Workspace& ws, const VectorIdentity& id,
                                   const std::string& embedder) {
  SM_CHECK(fs::exists(ann_file(ws, id)), ErrorKind::kInvalidArgument,
           "the workspace has no approximate index of " + embedder +
               "; run `skillmatch index --ann --embedder " + embedder + "` first");
  return std::make_unique<AnnIndex>(AnnIndex::load(ann_file(ws, id)));
}

Pipeline load_pipeline(const Workspace& ws, const std::string& embedder,
                       const std::string& reranker, const std::string& passage_template,
                       const std::string& dtype, bool ann) {
  Pipeline p;
  if (!embedder.empty()) {
    const fs::path dir = resolve_model(embedder);
    p.encoder = std::make_unique<BiEncoder>(BiEncoder::load(dir, inference(dtype, 32)));
    const VectorIdentity id = vector_identity(*p.encoder, embedder, dir, passage_template);
    if (!fs::exists(vector_file(ws, id))) {
      const auto last = ws.meta("index.embedder");
      std::string other;
      if (last) other = nlohmann::json::parse(*last).value("model", "?");
      throw Error(ErrorKind::kInvalidArgument,
                  "the workspace " + ws.directory().string() + " has no vectors of " + embedder +
                      (other.empty() ? std::string()
                                     : " (its vectors were made by " + other +
                                           ", a different model or template)") +
                      "; run `skillmatch index --embedder " + embedder + "` first");
    }
    p.vectors = std::make_unique<VectorStore>(VectorStore::open(vector_file(ws, id), id, false));
    if (ann) p.ann = load_ann(ws, id, embedder);
  }
  if (!reranker.empty()) {
    p.reranker = std::make_unique<CrossEncoder>(
        CrossEncoder::load(resolve_model(reranker), inference(dtype, 32)));
  }
  return p;
}

}  // namespace skillmatch::cli
