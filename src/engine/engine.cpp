#include "skillmatch/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <tuple>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "engine/caches.h"
#include "engine/engine_internal.h"
#include "engine/inference_queue.h"
#include "engine/shipped_data.h"
#include "skillmatch/catalog/feedback.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/index/dense_index.h"
#include "skillmatch/index/indexer.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/model_folder.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

struct LoadedEmbedder {
  std::string name;  // as the user named it (for messages and vector files)
  fs::path folder;
  std::string fingerprint;
  BiEncoder model;
};

struct LoadedReranker {
  std::string name;
  fs::path folder;
  CrossEncoder model;
};

// Lower-cases ASCII and the Latin-1 letters of German, French and the like (enough to make a
// label search case-insensitive for the taxonomies at hand).
std::string fold_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (c == 0xC3 && i + 1 < s.size()) {
      auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9E && d != 0x97) d = static_cast<unsigned char>(d + 0x20);
      out.push_back(static_cast<char>(c));
      out.push_back(static_cast<char>(d));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

InferenceOptions inference(const ModelSettings& s) {
  InferenceOptions o;
  o.dtype = s.dtype;
  o.batch_size = s.batch_size;
  return o;
}

std::string model_key(const fs::path& folder, const ModelSettings& s) {
  return folder.string() + "\n" + dtype_name(resolve_dtype(s.dtype)) + "\n" +
         std::to_string(s.batch_size);
}

bool filter_is_empty(const SkillFilter& f) {
  return f.taxonomies.empty() && f.collections.empty() && f.skill_types.empty() && f.groups.empty();
}

std::string describe(const MatchOptions& o) {
  const SearchOptions& s = o.search;
  std::string d = retrieval_mode_name(s.mode);
  if (s.mode == RetrievalMode::kHybrid) d += std::string(" (") + fusion_name(s.fusion) + ")";
  if (s.mode != RetrievalMode::kDense) {
    char w[96];
    std::snprintf(w, sizeof w, ", BM25 weights %g,%g,%g", s.bm25_weights.label,
                  s.bm25_weights.alt_labels, s.bm25_weights.description);
    d += w;
  }
  if (s.mode != RetrievalMode::kBm25 && s.ann) {
    d += ", HNSW efSearch " + std::to_string(s.ef_search);
  }
  if (s.mode != RetrievalMode::kBm25) {
    d += ", embedder " + o.embedder + ", passages \"" + o.passage_template + "\"";
  }
  if (!o.reranker.empty() && s.rerank) {
    d += ", reranker " + o.reranker + " on \"" + s.rerank_template + "\"";
  }
  return d;
}

std::string default_config_name(const MatchOptions& o) {
  std::string name = retrieval_mode_name(o.search.mode);
  if (o.search.mode == RetrievalMode::kHybrid && o.search.fusion == Fusion::kWeighted) {
    name += "-weighted";
  }
  if (!o.reranker.empty() && o.search.rerank) name += "+rerank";
  return name;
}

std::size_t count_ids(const std::vector<TokenIds>& ids) {
  std::size_t n = 0;
  for (const auto& s : ids) n += s.size();
  return n;
}

}  // namespace

void check_match_texts(const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string where = texts.size() == 1 ? "the text" : "text " + std::to_string(i + 1);
    SM_CHECK(texts[i].size() <= kMaxTextBytes, ErrorKind::kInvalidArgument,
             where + " is longer than 1 MiB (" + std::to_string(texts[i].size()) + " bytes)");
    try {
      validate_utf8(texts[i]);
    } catch (const Error& e) {
      rethrow_with_context(e, where);
    }
    SM_CHECK(texts[i].find_first_not_of(" \t\r\n\v\f") != std::string::npos,
             ErrorKind::kInvalidArgument, where + " is empty or only white space");
  }
}

fs::path default_workspace() {
  if (const char* w = std::getenv("SKILLMATCH_WORKSPACE"); w && *w) return w;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "skillmatch";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".local" / "share" / "skillmatch";
}

fs::path shipped_data_dir() {
  if (const char* d = std::getenv("SKILLMATCH_DATA"); d && *d) return d;
  return SKILLMATCH_DATA_DIR;
}

fs::path default_embedder(const fs::path& data_dir) {
  const fs::path folder = data_dir / "models" / kDefaultEmbedderName;
  std::error_code ec;
  return fs::is_regular_file(folder / "config.json", ec) &&
                 fs::is_regular_file(folder / "model.safetensors", ec)
             ? folder
             : fs::path();
}

struct Engine::Impl {
  EngineOptions opt;
  fs::path dir;
  std::unique_ptr<InferenceQueue> queue;  // with batching
  std::unique_ptr<ScoreCache> scores;
  std::mutex feedback_mu;
  std::unique_ptr<FeedbackStore> feedback;  // opened on first use, under feedback_mu

  // The workspace's feedback store, opened once; null when it does not exist and `create` is
  // false. The caller holds feedback_mu.
  FeedbackStore* feedback_store(bool create) {
    if (!feedback) {
      const fs::path file = dir / "feedback.db";
      if (!create && !fs::exists(file)) return nullptr;
      if (create) connect();  // the workspace folder exists
      feedback = std::make_unique<FeedbackStore>(FeedbackStore::open(file));
    }
    return feedback.get();
  }

  // ---------------------------------------------------------------- running the models
  Matrix run_embed(const LoadedEmbedder& e, const ModelSettings& s, std::vector<TokenIds> ids,
                   std::size_t prompt_length, bool normalize) {
    const BiEncoder model = e.model;
    auto runner = [model, prompt_length, normalize](const std::vector<TokenIds>& in) {
      return model.embed_tokens(in, prompt_length, nullptr, normalize);
    };
    if (!queue) return runner(ids);
    const std::string key = "embed\n" + model_key(e.folder, s) + "\n" +
                            std::to_string(prompt_length) + (normalize ? "n" : "r");
    return queue->run(key, runner, std::move(ids));
  }

  std::vector<float> run_score(const LoadedReranker& r, const ModelSettings& s,
                               const std::vector<TokenIds>& ids) {
    const std::string key = model_key(r.folder, s);
    std::vector<float> out(ids.size());
    std::vector<TokenIds> missing;
    std::vector<std::size_t> where;
    std::vector<ScoreCache::Key> missing_keys;  // hashed once, for the lookup and the store
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (scores) {
        const ScoreCache::Key k = scores->key(key, ids[i]);
        if (auto v = scores->get(k)) {
          out[i] = *v;
          continue;
        }
        missing_keys.push_back(k);
      }
      missing.push_back(ids[i]);
      where.push_back(i);
    }
    if (missing.empty()) return out;
    const CrossEncoder model = r.model;
    auto runner = [model](const std::vector<TokenIds>& in) {
      const std::vector<float> logits = model.score_tokens(in);
      Matrix m(logits.size(), 1);
      std::copy(logits.begin(), logits.end(), m.data.begin());
      return m;
    };
    const Matrix got = queue ? queue->run("score\n" + key, runner, missing) : runner(missing);
    for (std::size_t k = 0; k < where.size(); ++k) {
      out[where[k]] = got.data[k];
      if (scores) scores->put(missing_keys[k], got.data[k]);
    }
    return out;
  }

  // ---------------------------------------------------------------- workspace connections
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Workspace>> idle;
  // The shipped data is imported by the first connection, once: the others wait for it.
  std::mutex seed_mu;
  std::atomic<bool> seeded{false};

  // A connection of the pool for the duration of one call.
  class Lease {
   public:
    Lease(Impl& impl, std::unique_ptr<Workspace> ws) : impl_(impl), ws_(std::move(ws)) {}
    ~Lease() {
      const std::lock_guard<std::mutex> lock(impl_.pool_mu);
      impl_.idle.push_back(std::move(ws_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Workspace& operator*() const { return *ws_; }
    Workspace* operator->() const { return ws_.get(); }

   private:
    Impl& impl_;
    std::unique_ptr<Workspace> ws_;
  };

  // A connection; the workspace is created, and seeded with the shipped data (unless `seed` is
  // false or the options say not to), on first use.
  Lease connect(bool seed = true) {
    std::unique_ptr<Workspace> ws;
    {
      const std::lock_guard<std::mutex> lock(pool_mu);
      if (!idle.empty()) {
        ws = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (!ws) ws = std::make_unique<Workspace>(Workspace::open(dir, true));
    if (seed && opt.seed_defaults && !seeded) {
      const std::lock_guard<std::mutex> lock(seed_mu);
      if (!seeded) {
        seed_shipped_data(*ws, opt.data_dir, opt.log);
        seeded = true;
      }
    }
    return Lease(*this, std::move(ws));
  }

  // ---------------------------------------------------------------- the skill snapshot
  std::mutex snap_mu;
  std::shared_ptr<const SkillSet> snap;

  std::shared_ptr<const SkillSet> skills(const Workspace& ws) {
    const std::uint64_t g = ws.generation();
    {
      const std::lock_guard<std::mutex> lock(snap_mu);
      if (snap && snap->generation == g) return snap;
    }
    auto fresh = ws.snapshot();
    const std::lock_guard<std::mutex> lock(snap_mu);
    if (!snap || snap->generation <= fresh->generation) snap = fresh;
    return fresh;
  }

  // ---------------------------------------------------------------- models
  ModelCache<LoadedEmbedder> embedders;
  ModelCache<LoadedReranker> rerankers;
  ModelCache<Tokenizer> tokenizers;

  // A model's folder, looked up once per name: a Hub id keeps the revision it had on first use
  // (a `pull` while a service runs does not swap the model under it).
  std::mutex folders_mu;
  std::map<std::string, fs::path> folders;

  fs::path folder_of(const std::string& name) {
    {
      const std::lock_guard<std::mutex> lock(folders_mu);
      auto it = folders.find(name);
      if (it != folders.end()) return it->second;
    }
    fs::path folder = resolve_model(name);
    const std::lock_guard<std::mutex> lock(folders_mu);
    return folders.emplace(name, std::move(folder)).first->second;
  }

  std::shared_ptr<const LoadedEmbedder> embedder(const std::string& name,
                                                 const ModelSettings& settings) {
    SM_CHECK(!name.empty(), ErrorKind::kInvalidArgument, "no embedding model given (--embedder)");
    const fs::path folder = folder_of(name);
    return embedders.get(model_key(folder, settings), [&] {
      const ModelFolder mf = ModelFolder::read(folder);
      auto e = std::make_shared<LoadedEmbedder>(LoadedEmbedder{
          name, folder, model_fingerprint(folder), BiEncoder::load(mf, inference(settings))});
      return std::shared_ptr<const LoadedEmbedder>(std::move(e));
    });
  }

  std::shared_ptr<const LoadedReranker> reranker(const std::string& name,
                                                 const ModelSettings& settings) {
    SM_CHECK(!name.empty(), ErrorKind::kInvalidArgument, "no reranker given (--reranker)");
    const fs::path folder = folder_of(name);
    return rerankers.get(model_key(folder, settings), [&] {
      auto r = std::make_shared<LoadedReranker>(
          LoadedReranker{name, folder, CrossEncoder::load(folder, inference(settings))});
      return std::shared_ptr<const LoadedReranker>(std::move(r));
    });
  }

  std::shared_ptr<const Tokenizer> tokenizer(const std::string& model) {
    const fs::path path = fs::is_regular_file(model) ? fs::path(model) : folder_of(model);
    return tokenizers.get(path.string(), [&] {
      return std::make_shared<const Tokenizer>(fs::is_regular_file(path)
                                                   ? Tokenizer::load(path)
                                                   : ModelFolder::read(path).load_tokenizer());
    });
  }

  // ---------------------------------------------------------------- dense indexes
  // The dense index of one vector identity, rebuilt when the skills or the vector file change.
  struct DenseEntry {
    std::mutex mu;
    std::shared_ptr<const DenseIndex> index;
    std::uint64_t generation = 0;
    std::uint64_t file_size = 0;
  };
  std::mutex dense_mu;
  std::map<std::string, std::shared_ptr<DenseEntry>> dense;
  std::mutex index_mu;  // one indexing run at a time in this process

  void notify(const std::string& message) const {
    if (opt.log) opt.log(message);
  }

  ProgressFn indexing_progress(const std::string& model) const {
    if (!opt.progress) return nullptr;
    auto progress = opt.progress;
    return [progress, what = "indexing " + model](std::size_t done, std::size_t total) {
      progress(what, done, total);
    };
  }

  static VectorIdentity identity(const LoadedEmbedder& e, const std::string& passage_template) {
    return {e.name, e.fingerprint, passage_template, e.model.dimension()};
  }

  // Builds `entry` from the vector file: the skills of the snapshot whose vector is current. A
  // damaged file counts as empty when `damaged_as_empty` (indexing then sets it aside).
  void rebuild(DenseEntry& entry, const Workspace& ws, const SkillSet& snapshot,
               const VectorIdentity& id, std::uint64_t file_size, bool damaged_as_empty) {
    const fs::path file = vector_file(ws, id);
    std::vector<std::int64_t> ids;
    Matrix vectors(0, id.dimension);
    std::optional<VectorStore> read;
    if (fs::exists(file)) {
      try {
        read = VectorStore::read(file, id);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kCorrupt || !damaged_as_empty) throw;
      }
    }
    if (read) {
      const VectorStore& store = *read;
      for (const Skill& s : snapshot.skills) {
        if (store.hash(s.id) == passage_hash(id.passage_template, s)) ids.push_back(s.id);
      }
      vectors = Matrix(ids.size(), id.dimension);
      for (std::size_t r = 0; r < ids.size(); ++r) {
        std::copy_n(store.vector(ids[r]), id.dimension, vectors.row(r));
      }
    }
    auto index = std::make_shared<DenseIndex>(std::move(ids), std::move(vectors));
    const fs::path graph = ann_file(ws, id);
    if (fs::exists(graph)) {
      try {
        index->attach_ann(std::make_shared<const AnnIndex>(AnnIndex::load(graph)));
      } catch (const Error&) {
        // Stale or damaged: approximate requests are refused (run `index --ann` again).
      }
    }
    entry.index = std::move(index);
    entry.generation = snapshot.generation;
    entry.file_size = file_size;
  }

  // The vectors shipped in the model folder, when they were made by these weights with this
  // template; otherwise none (with a note when the file is there but does not fit).
  std::optional<VectorStore> model_vectors(const LoadedEmbedder& e, const VectorIdentity& id) {
    const fs::path file = model_vectors_file(e.folder);
    if (!fs::exists(file)) return std::nullopt;
    try {
      return VectorStore::read(file, id);
    } catch (const Error& err) {
      // Another template's vectors are expected and not worth a note; anything else is.
      if (id.passage_template == kDefaultPassageTemplate ||
          err.kind() != ErrorKind::kInvalidArgument) {
        notify("not using " + file.string() + ": " + err.what());
      }
      return std::nullopt;
    }
  }

  // What became of the vectors shipped with `e` in an indexing run.
  void note_shipped(const LoadedEmbedder& e, const IndexStats& stats) const {
    const std::string file = model_vectors_file(e.folder).string();
    if (stats.precomputed_rejected) {
      notify("the vectors in " + file +
             " disagree with the model as loaded (made with another tokenizer or pooling?): "
             "embedded every skill instead");
    } else if (stats.precomputed > 0 && stats.embedded > 0) {
      notify("took " + std::to_string(stats.precomputed) + " skill vectors from " + file +
             " and embedded " + std::to_string(stats.embedded) + " that it lacks");
    }
  }

  // Drops the cached dense index of `id` (its files changed in ways its size does not show).
  void forget_dense(const VectorIdentity& id) {
    const std::lock_guard<std::mutex> lock(dense_mu);
    dense.erase(id.key());
  }

  // The note on vectors of the same model made with another passage template.
  std::string template_note(const Workspace& ws, const LoadedEmbedder& e,
                            const std::string& passage_template) const {
    const auto last = ws.meta("index.embedder");
    if (!last) return "";
    try {
      const auto j = nlohmann::json::parse(*last);
      const std::string t = j.value("template", "");
      if (j.value("fingerprint", "") == e.fingerprint && t != passage_template) {
        return " (the workspace has vectors of " + e.name + " made with --template \"" + t +
               "\"; pass that template to use them)";
      }
    } catch (const nlohmann::json::exception&) {
    }
    return "";
  }

  // The dense index of `e`'s vectors, covering every skill `filter` lets through: skills without
  // a current vector are embedded first when `auto_index`, else the request is refused.
  std::shared_ptr<const DenseIndex> dense_index(Workspace& ws, const SkillSet& snapshot,
                                                const LoadedEmbedder& e,
                                                const std::string& passage_template,
                                                const SkillFilter& filter, bool auto_index) {
    const VectorIdentity id = identity(e, passage_template);
    std::shared_ptr<DenseEntry> entry;
    {
      const std::lock_guard<std::mutex> lock(dense_mu);
      auto& slot = dense[id.key()];
      if (!slot) slot = std::make_shared<DenseEntry>();
      entry = slot;
    }
    const fs::path file = vector_file(ws, id);
    for (int attempt = 0;; ++attempt) {
      std::string what;
      {
        const std::lock_guard<std::mutex> lock(entry->mu);
        std::error_code ec;
        const std::uint64_t size = fs::exists(file, ec) ? fs::file_size(file, ec) : 0;
        if (!entry->index || entry->generation != snapshot.generation || entry->file_size != size) {
          rebuild(*entry, ws, snapshot, id, size, auto_index && attempt == 0);
        }
        std::size_t wanted = 0, missing = 0;
        if (filter_is_empty(filter)) {
          wanted = snapshot.skills.size();
          missing = wanted - entry->index->size();
        } else {
          for (const std::int64_t sid : ws.skill_ids(filter)) {
            if (!snapshot.find(sid)) continue;
            ++wanted;
            missing += entry->index->row_of(sid) ? 0 : 1;
          }
        }
        if (missing == 0) return entry->index;
        what = std::to_string(missing) + " of the " + std::to_string(wanted) +
               " skills to match have no vector of " + e.name;
        SM_CHECK(auto_index && attempt == 0, ErrorKind::kInvalidArgument,
                 what + template_note(ws, e, passage_template) +
                     "; run `skillmatch index --embedder " + e.name + "` first");
      }
      // Embedding does not hold the entry: requests that need no new vector go on meanwhile
      // (they read the file's whole records so far).
      const std::lock_guard<std::mutex> index_lock(index_mu);
      const auto shipped = model_vectors(e, id);
      if (shipped) {
        notify(what + ": taking those that " + model_vectors_file(e.folder).string() +
               " holds, embedding the rest");
      } else {
        notify(what + ": embedding them now (once; the vectors are kept in the workspace)" +
               template_note(ws, e, passage_template));
      }
      const IndexStats stats = index_skills(ws, e.model, id, indexing_progress(e.name), 256, filter,
                                            shipped ? &*shipped : nullptr);
      if (!stats.set_aside.empty()) {
        notify("the vector file was damaged; moved it aside to " + stats.set_aside.string());
      }
      note_shipped(e, stats);
    }
  }

  // Loads what a match with `o` needs (models and the dense index) and gives its matcher.
  Matcher matcher(Workspace& ws, const std::shared_ptr<const SkillSet>& snapshot,
                  const MatchOptions& o) {
    std::optional<BiEncoder> enc;
    std::shared_ptr<const DenseIndex> index;
    ModelRunner runner;
    if (o.search.mode != RetrievalMode::kBm25 || (o.search.explain && !o.embedder.empty())) {
      SM_CHECK(!o.embedder.empty(), ErrorKind::kInvalidArgument,
               std::string(retrieval_mode_name(o.search.mode)) +
                   " retrieval needs an embedding model (--embedder)");
      const auto e = embedder(o.embedder, o.settings);
      index = dense_index(ws, *snapshot, *e, o.passage_template, o.search.filter, o.auto_index);
      enc = e->model;
      runner.embed = [this, e, s = o.settings](const std::vector<TokenIds>& ids,
                                               std::size_t prompt_length) {
        return run_embed(*e, s, ids, prompt_length, true);
      };
    }
    std::optional<CrossEncoder> rr;
    if (o.search.rerank && !o.reranker.empty()) {
      const auto r = reranker(o.reranker, o.settings);
      rr = r->model;
      runner.score = [this, r, s = o.settings](const std::vector<TokenIds>& ids) {
        return run_score(*r, s, ids);
      };
    }
    return Matcher(snapshot, std::move(enc), std::move(index), std::move(rr), std::move(runner));
  }
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  impl_->dir = impl_->opt.workspace.empty() ? default_workspace() : impl_->opt.workspace;
  if (impl_->opt.data_dir.empty()) impl_->opt.data_dir = shipped_data_dir();
  if (impl_->opt.threads > 0) set_num_threads(impl_->opt.threads);
  const BatchingOptions& b = impl_->opt.batching;
  if (b.enabled) {
    impl_->queue =
        std::make_unique<InferenceQueue>(QueueLimits{b.max_batch_tokens, b.max_queue, b.max_wait});
  }
  if (impl_->opt.rerank_cache_entries > 0) {
    impl_->scores = std::make_unique<ScoreCache>(impl_->opt.rerank_cache_entries);
  }
}

Engine::~Engine() = default;

const fs::path& Engine::workspace_dir() const noexcept {
  return impl_->dir;
}

// ------------------------------------------------------------------------------------ models

ModelInfo Engine::model_info(const std::string& model, const ModelSettings& settings) {
  ModelInfo info;
  info.name = model;
  info.folder = impl_->folder_of(model);
  const ModelFolder mf = ModelFolder::read(info.folder);
  const ModelConfig& c = mf.config();
  info.kind = mf.kind();
  info.architecture = c.architectures.empty() ? "" : c.architectures[0];
  info.layers = c.num_hidden_layers;
  info.hidden_size = c.hidden_size;
  info.heads = c.num_attention_heads;
  info.vocab_size = c.vocab_size;
  info.tokenizer_file = mf.tokenizer_json_file()  ? "tokenizer.json"
                        : mf.sentencepiece_file() ? "sentencepiece.bpe.model"
                                                  : "";
  if (info.kind == ModelKind::kCrossEncoder) {
    const auto r = impl_->reranker(model, settings);
    info.max_length = r->model.max_length();
    info.dtype = r->model.dtype();
    info.fingerprint = model_fingerprint(info.folder);
  } else {
    const auto e = impl_->embedder(model, settings);
    info.fingerprint = e->fingerprint;
    info.dimension = e->model.dimension();
    info.pooling = e->model.pooling();
    info.normalize = e->model.normalizes();
    info.max_seq_length = e->model.max_seq_length();
    info.prompts = e->model.prompts();
    info.default_prompt_name = e->model.default_prompt_name();
    info.dtype = e->model.dtype();
  }
  return info;
}

void Engine::check_model(const std::string& model, ModelKind kind) {
  const ModelFolder mf = ModelFolder::read(impl_->folder_of(model));
  SM_CHECK(mf.kind() == kind, ErrorKind::kInvalidArgument,
           model + " is " +
               (mf.kind() == ModelKind::kCrossEncoder
                    ? "a cross-encoder (a reranker), not an embedding model"
                    : "an embedding model, not a cross-encoder (reranker)"));
  SM_CHECK(mf.weights_file().has_value(), ErrorKind::kNotFound,
           model + ": no model.safetensors or pytorch_model.bin in " + mf.dir().string());
  (void)mf.load_tokenizer();
}

std::vector<TokenIds> Engine::tokenize(const std::vector<std::string>& texts,
                                       const TokenizeOptions& o) {
  const auto tok = impl_->tokenizer(o.model);
  std::string prompt;
  if (!o.prompt_name.empty()) {
    const ModelFolder mf = ModelFolder::read(impl_->folder_of(o.model));
    const auto& prompts = mf.sentence_transformers().prompts;
    auto it = prompts.find(o.prompt_name);
    SM_CHECK(it != prompts.end(), ErrorKind::kInvalidArgument,
             "prompt: the model " + o.model + " defines no prompt named '" + o.prompt_name + "'");
    prompt = it->second;
  }
  std::vector<TokenIds> out;
  out.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      if (o.add_special_tokens) {
        out.push_back(tok->encode(prompt + texts[i], o.max_length));
      } else {
        TokenIds ids = tok->encode_pieces(prompt + texts[i]);
        if (ids.size() > o.max_length) ids.resize(o.max_length);
        out.push_back(std::move(ids));
      }
    } catch (const Error& e) {
      rethrow_with_context(e, "text " + std::to_string(i + 1));
    }
  }
  return out;
}

std::vector<TokenIds> Engine::tokenize_pairs(const std::vector<TextPair>& pairs,
                                             const TokenizeOptions& o) {
  const auto tok = impl_->tokenizer(o.model);
  std::vector<TokenIds> out;
  out.reserve(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    try {
      out.push_back(tok->encode_pair(pairs[i].first, pairs[i].second, o.max_length));
    } catch (const Error& e) {
      rethrow_with_context(e, "pair " + std::to_string(i + 1));
    }
  }
  return out;
}

std::vector<std::string> Engine::pieces(const TokenIds& ids, const std::string& model) {
  const auto tok = impl_->tokenizer(model);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const auto id : ids) out.push_back(tok->id_to_piece(id));
  return out;
}

std::string Engine::decode(const TokenIds& ids, const std::string& model,
                           bool skip_special_tokens) {
  return impl_->tokenizer(model)->decode(ids, skip_special_tokens);
}

bool Engine::is_special_token(std::int32_t id, const std::string& model) {
  return impl_->tokenizer(model)->is_special(id);
}

Matrix Engine::embed(const std::vector<std::string>& texts, const EmbedOptions& o,
                     std::size_t* tokens) {
  const auto e = impl_->embedder(o.model, o.settings);
  const BiEncoder& enc = e->model;
  std::string prompt;
  if (o.prompt_text) {
    prompt = *o.prompt_text;
  } else {
    const std::string name = o.prompt_name.empty() ? enc.default_prompt_name() : o.prompt_name;
    if (!name.empty() && name != "none") {
      auto p = enc.prompt(name);
      if (!p) {
        std::string known;
        for (const auto& [k, v] : enc.prompts()) known += (known.empty() ? "" : ", ") + k;
        throw Error(ErrorKind::kInvalidArgument,
                    "prompt: the model " + o.model + " defines no prompt named '" + name +
                        "' (it has: " + (known.empty() ? std::string("none") : known) + ")");
      }
      prompt = *p;
    }
  }
  const std::size_t max = enc.max_seq_length();
  std::vector<TokenIds> ids;
  if (o.truncate && !o.truncate_left) {
    ids = enc.tokenize(texts, prompt);
  } else {
    const Tokenizer& tok = enc.tokenizer();
    for (std::size_t i = 0; i < texts.size(); ++i) {
      TokenIds content;
      try {
        content = tok.encode_pieces(prompt + texts[i]);
      } catch (const Error& err) {
        rethrow_with_context(err, "text " + std::to_string(i + 1));
      }
      const std::size_t n = content.size() + 2;
      SM_CHECK(o.truncate || n <= max, ErrorKind::kInvalidArgument,
               "`inputs` must have less than " + std::to_string(max) + " tokens. Given: " +
                   std::to_string(n) + " (text " + std::to_string(i + 1) + "; truncation is off)");
      if (n > max)
        content.erase(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(n - max));
      ids.push_back(tok.assemble_single(content));
    }
  }
  const std::size_t prompt_length = prompt.empty() ? 0 : enc.prompt_token_count(prompt);
  if (tokens) *tokens = count_ids(ids);
  return impl_->run_embed(*e, o.settings, ids, prompt_length, o.normalize);
}

Matrix Engine::embed_ids(const std::vector<TokenIds>& ids, const EmbedOptions& o,
                         std::size_t* tokens) {
  const auto e = impl_->embedder(o.model, o.settings);
  const BiEncoder& enc = e->model;
  const std::size_t max = enc.max_seq_length();
  const auto vocab = enc.tokenizer().vocab_size();
  std::vector<TokenIds> in = ids;
  for (std::size_t i = 0; i < in.size(); ++i) {
    SM_CHECK(!in[i].empty(), ErrorKind::kInvalidArgument,
             "input " + std::to_string(i + 1) + " has no token ids");
    for (const auto id : in[i]) {
      SM_CHECK(id >= 0 && id < vocab, ErrorKind::kInvalidArgument,
               "input " + std::to_string(i + 1) + ": token id " + std::to_string(id) +
                   " is outside the vocabulary (0 to " + std::to_string(vocab - 1) + ")");
    }
    if (in[i].size() <= max) continue;
    SM_CHECK(o.truncate, ErrorKind::kInvalidArgument,
             "`inputs` must have less than " + std::to_string(max) +
                 " tokens. Given: " + std::to_string(in[i].size()));
    if (o.truncate_left) {
      in[i].erase(in[i].begin(), in[i].end() - static_cast<std::ptrdiff_t>(max));
    } else {
      in[i].resize(max);
    }
  }
  if (tokens) *tokens = count_ids(in);
  return impl_->run_embed(*e, o.settings, std::move(in), 0, o.normalize);
}

std::vector<float> Engine::rerank(const std::vector<TextPair>& pairs, const RerankOptions& o) {
  const auto r = impl_->reranker(o.model, o.settings);
  return impl_->run_score(*r, o.settings, r->model.tokenize(pairs, o.pair));
}

// --------------------------------------------------------------------------------- workspace

std::vector<TaxonomyInfo> Engine::taxonomies() {
  return impl_->connect()->taxonomies();
}

std::size_t Engine::skill_count(const SkillFilter& filter) {
  return impl_->connect()->skill_count(filter);
}

std::vector<GroupSummary> Engine::groups(const SkillFilter& filter) {
  return impl_->connect()->groups(filter);
}

std::optional<Skill> Engine::skill(std::int64_t id) {
  return impl_->connect()->skill(id);
}

std::optional<Skill> Engine::find_skill(const std::string& taxonomy, const std::string& uri) {
  return impl_->connect()->find(taxonomy, uri);
}

std::vector<Skill> Engine::search_skills(const std::string& query, std::size_t limit,
                                         const SkillFilter& filter) {
  validate_utf8(query);
  auto ws = impl_->connect();
  const auto snapshot = impl_->skills(*ws);
  std::vector<char> allowed;
  if (!filter_is_empty(filter)) {
    allowed.assign(snapshot->skills.size(), 0);
    for (const std::int64_t id : ws->skill_ids(filter)) {
      auto it = snapshot->position.find(id);
      if (it != snapshot->position.end()) allowed[it->second] = 1;
    }
  }
  const std::string q = fold_case(query);
  if (q.find_first_not_of(" \t") == std::string::npos || limit == 0) return {};
  // (0: the label starts with the query, 1: the label contains it, 2: an alternative label
  // does), then the label's length, then workspace order.
  std::vector<std::tuple<int, std::size_t, std::size_t>> hits;
  for (std::size_t i = 0; i < snapshot->skills.size(); ++i) {
    if (!allowed.empty() && !allowed[i]) continue;
    const SkillRecord& r = snapshot->skills[i].record;
    const std::string label = fold_case(r.label);
    const std::size_t pos = label.find(q);
    int rank = pos == 0 ? 0 : pos != std::string::npos ? 1 : 3;
    if (rank == 3) {
      for (const auto& a : r.alt_labels) {
        if (fold_case(a).find(q) != std::string::npos) rank = 2;
      }
    }
    if (rank < 3) hits.emplace_back(rank, r.label.size(), i);
  }
  const std::size_t n = std::min(limit, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end());
  std::vector<Skill> out;
  for (std::size_t k = 0; k < n; ++k) out.push_back(snapshot->skills[std::get<2>(hits[k])]);
  return out;
}

Skill Engine::resolve_skill(const SkillRef& ref) {
  auto ws = impl_->connect();
  const auto snapshot = impl_->skills(*ws);
  if (ref.id != 0) {
    const Skill* s = snapshot->find(ref.id);
    SM_CHECK(s != nullptr, ErrorKind::kInvalidArgument,
             "no skill with id " + std::to_string(ref.id) + " in the workspace");
    return *s;
  }
  SM_CHECK(!ref.uri.empty(), ErrorKind::kInvalidArgument, "a skill needs an id or a URI");
  const Skill* found = nullptr;
  for (const Skill& s : snapshot->skills) {
    if (s.record.uri != ref.uri || (!ref.taxonomy.empty() && s.taxonomy != ref.taxonomy)) continue;
    SM_CHECK(found == nullptr, ErrorKind::kInvalidArgument,
             "the URI " + ref.uri + " names skills of several taxonomies (" + found->taxonomy +
                 ", " + s.taxonomy + "); give the taxonomy");
    found = &s;
  }
  SM_CHECK(found != nullptr, ErrorKind::kInvalidArgument,
           "no skill " + (ref.taxonomy.empty() ? std::string() : ref.taxonomy + " ") + ref.uri +
               " in the workspace");
  return *found;
}

std::int64_t Engine::add_feedback(const FeedbackInput& in) {
  check_match_texts({in.text});
  FeedbackEntry e;
  e.text = in.text;
  e.request_id = in.request_id;
  e.models = in.models;
  auto resolve = [&](const std::vector<SkillRef>& refs, std::vector<Skill>& out,
                     const char* field) {
    for (std::size_t i = 0; i < refs.size(); ++i) {
      try {
        out.push_back(resolve_skill(refs[i]));
      } catch (const Error& err) {
        rethrow_with_context(err, std::string(field) + "[" + std::to_string(i) + "]");
      }
    }
  };
  resolve(in.accepted, e.accepted, "accepted");
  resolve(in.rejected, e.rejected, "rejected");
  resolve(in.added, e.added, "added");
  const std::lock_guard<std::mutex> lock(impl_->feedback_mu);
  return impl_->feedback_store(true)->add(e);
}

void Engine::export_feedback(const std::string& skill_template,
                             const std::function<void(const std::string&)>& write) {
  // The template is the caller's (a query parameter of the service): the lines are JSON, which
  // holds only UTF-8.
  try {
    validate_utf8(skill_template);
  } catch (const Error& e) {
    rethrow_with_context(e, "the skill template");
  }
  std::vector<FeedbackEntry> entries;
  {
    const std::lock_guard<std::mutex> lock(impl_->feedback_mu);
    FeedbackStore* store = impl_->feedback_store(false);
    if (!store) return;
    store->for_each([&](const FeedbackEntry& e) { entries.push_back(e); });
  }
  for (const FeedbackEntry& e : entries) {
    nlohmann::ordered_json j;
    j["query"] = e.text;
    nlohmann::json pos = nlohmann::json::array(), neg = nlohmann::json::array();
    nlohmann::json pos_uris = nlohmann::json::array(), neg_uris = nlohmann::json::array();
    for (const auto* list : {&e.accepted, &e.added}) {
      for (const Skill& s : *list) {
        pos.push_back(format_skill(skill_template, s));
        pos_uris.push_back(s.record.uri);
      }
    }
    for (const Skill& s : e.rejected) {
      neg.push_back(format_skill(skill_template, s));
      neg_uris.push_back(s.record.uri);
    }
    j["pos"] = pos;
    j["neg"] = neg;
    j["pos_uris"] = pos_uris;
    j["neg_uris"] = neg_uris;
    j["id"] = e.id;
    j["created"] = e.created;
    write(j.dump());
  }
}

ImportReport Engine::import(const ImportRequest& request) {
  if (request.format == "defaults") {
    auto ws = impl_->connect();
    return import_shipped_data(*ws, impl_->opt.data_dir, impl_->opt.log);
  }
  // Every file is read and checked before the workspace is touched (or created).
  const TaxonomyData d = read_import(request);
  auto ws = impl_->connect(/*seed=*/false);
  // A workspace whose first import is the user's own taxonomy is never seeded with the shipped
  // one, even when that import is interrupted.
  if (!ws->meta("defaults.state") && ws->taxonomies().empty()) {
    ws->set_meta("defaults.state", "declined");
  }
  return ws->import(d, request.replace);
}

TaxonomyData read_import(const ImportRequest& r) {
  SM_CHECK(!r.file.empty(), ErrorKind::kInvalidArgument, "import " + r.format + " needs a file");
  SM_CHECK(r.hierarchy.empty() == r.groups.empty(), ErrorKind::kInvalidArgument,
           "--hierarchy and --groups go together (ESCO's broaderRelationsSkillPillar and "
           "skillGroups CSV files)");
  // Every file is read and checked before anything is written.
  TaxonomyData d;
  const std::string esco_name = r.name.empty() ? "esco-" + r.language : r.name;
  if (r.format == "esco" && r.file.extension() == ".zip") {
    d = read_esco_export(r.file, esco_name, r.version, r.language);
  } else if (r.format == "esco") {
    d = read_esco_skills(r.file, esco_name, r.version, r.language);
  } else if (r.format == "greta") {
    d = read_greta(r.file);
    if (!r.name.empty()) d.info.name = r.name;
  } else {
    SM_CHECK(r.format == "custom", ErrorKind::kInvalidArgument,
             "unknown import format '" + r.format + "' (esco, greta, custom or defaults)");
    SM_CHECK(!r.name.empty(), ErrorKind::kInvalidArgument, "a custom taxonomy needs --name");
    d = read_custom_taxonomy(r.file, r.name, r.mapping);
    d.info.version = r.version;
    d.info.language = r.language;
  }
  if (!r.hierarchy.empty()) {
    d.groups.clear();
    d.links.clear();
    read_esco_hierarchy(r.hierarchy, r.groups, d);
  }
  for (const fs::path& c : r.collections) {
    d.collections.emplace_back(esco_collection_name(c), read_esco_collection(c));
  }
  return d;
}

// ------------------------------------------------------------------- index, match, evaluate

IndexReport Engine::index(const IndexOptions& o) {
  auto ws = impl_->connect();
  const auto e = impl_->embedder(o.embedder, o.settings);
  const VectorIdentity id = Impl::identity(*e, o.passage_template);
  IndexReport report;
  {
    const std::lock_guard<std::mutex> lock(impl_->index_mu);
    const auto shipped = impl_->model_vectors(*e, id);
    report.stats = index_skills(*ws, e->model, id, impl_->indexing_progress(e->name), 256, o.filter,
                                shipped ? &*shipped : nullptr);
    if (shipped) impl_->note_shipped(*e, report.stats);
  }
  report.vector_file = vector_file(*ws, id);
  if (!o.export_vectors.empty()) {
    // One record per distinct passage of the filtered skills (ids are row numbers).
    const VectorStore store = VectorStore::read(report.vector_file, id);
    std::vector<std::int64_t> rows;
    std::vector<std::uint64_t> hashes;
    std::unordered_set<std::uint64_t> seen;
    Matrix m(0, id.dimension);
    for (const Skill& s : ws->skills(o.filter)) {
      const std::uint64_t h = passage_hash(o.passage_template, s);
      const float* v = store.vector(s.id);
      if (!v || store.hash(s.id) != h || !seen.insert(h).second) continue;
      rows.push_back(static_cast<std::int64_t>(rows.size()));
      hashes.push_back(h);
      m.data.insert(m.data.end(), v, v + id.dimension);
      ++m.rows;
    }
    VectorIdentity out = id;
    out.model = e->folder.filename().string();
    VectorStore::write(o.export_vectors, out, rows, hashes, m);
    report.exported = rows.size();
  }
  if (!report.stats.set_aside.empty()) {
    impl_->notify("the vector file was damaged; moved it aside to " +
                  report.stats.set_aside.string() + " and indexed anew");
  }
  if (!o.ann) return report;
  // The graph covers every skill that has a vector (those of the filter were just embedded).
  const auto snapshot = impl_->skills(*ws);
  const auto dense = impl_->dense_index(*ws, *snapshot, *e, o.passage_template, o.filter, false);
  if (dense->has_ann()) {
    report.ann_up_to_date = true;
    return report;
  }
  const auto t0 = std::chrono::steady_clock::now();
  dense->build_ann(o.ann_options).save(ann_file(*ws, id));
  impl_->forget_dense(id);  // the next request loads the index with its new graph
  report.ann_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.ann_built = true;
  return report;
}

void Engine::prepare(const MatchOptions& o) {
  auto ws = impl_->connect();
  impl_->matcher(*ws, impl_->skills(*ws), o);
}

std::uint64_t Engine::generation() {
  return impl_->connect()->generation();
}

EngineStats Engine::stats() const {
  EngineStats s;
  if (impl_->queue) {
    const QueueStats q = impl_->queue->stats();
    s.batches = q.batches;
    s.batched_jobs = q.jobs;
    s.batched_inputs = q.inputs;
    s.batched_tokens = q.tokens;
    s.refused = q.refused;
    s.queued = q.queued;
    s.batch_jobs = q.batch_jobs;
  }
  if (impl_->scores)
    std::tie(s.rerank_cache_hits, s.rerank_cache_misses) = impl_->scores->hits_misses();
  return s;
}

std::vector<MatchResult> Engine::match(const std::string& text, const MatchOptions& options) {
  return match_batch({text}, options)[0];
}

std::vector<std::vector<MatchResult>> Engine::match_batch(const std::vector<std::string>& texts,
                                                          const MatchOptions& o) {
  check_match_texts(texts);
  auto ws = impl_->connect();
  const auto snapshot = impl_->skills(*ws);
  const Matcher m = impl_->matcher(*ws, snapshot, o);
  return m.match_batch(*ws, texts, o.search);
}

EvalReport Engine::evaluate(const fs::path& dataset, const EvalRequest& request,
                            const ProgressFn& progress) {
  request.cutoffs.validate();
  EvalReport report;
  std::vector<std::pair<std::string, MatchOptions>> configs;
  {
    auto ws = impl_->connect();
    const std::vector<Skill> corpus = ws->skills(request.corpus);
    SM_CHECK(!corpus.empty(), ErrorKind::kInvalidArgument,
             "the workspace " + impl_->dir.string() + " has no skills that pass the filter");
    report.resolver =
        std::make_shared<const SkillResolver>(corpus, request.dataset.positive_template);
    report.data = load_dataset(dataset, *report.resolver, request.dataset);
    if (request.limit > 0 && report.data.queries.size() > request.limit) {
      report.data.limited_from = report.data.queries.size();
      report.data.queries.resize(request.limit);
    }
    report.depth = request.depth ? request.depth : request.cutoffs.max_k();
    // Each configuration ranks `depth` skills of the corpus, with no cut-off: what is measured
    // is `match --candidates depth --top depth`.
    std::map<std::string, int> seen;
    const auto snapshot = impl_->skills(*ws);
    for (const auto& c : request.configs) {
      MatchOptions o = c.options;
      o.search.candidates = report.depth;
      o.search.top = report.depth;
      o.search.threshold.reset();
      o.search.cut_at_largest_gap = false;
      o.search.filter = request.corpus;
      std::string name = c.name.empty() ? default_config_name(o) : c.name;
      if (++seen[name] > 1) name += "#" + std::to_string(seen[name]);
      try {
        impl_->matcher(*ws, snapshot, o);  // loads the models and vectors before timing starts
      } catch (const Error& e) {
        rethrow_with_context(e, "configuration " + name);
      }
      configs.emplace_back(std::move(name), std::move(o));
    }
  }
  std::vector<EvalConfig> eval_configs;
  for (const auto& [name, o] : configs) {
    EvalConfig c;
    c.name = name;
    c.description = describe(o);
    c.rank = [this, o = o](const std::string& text, std::size_t) {
      std::vector<RankedSkill> out;
      for (const MatchResult& m : match(text, o)) {
        out.push_back({m.skill.id, m.rerank_logit ? double(*m.rerank_logit) : m.score});
      }
      return out;
    };
    eval_configs.push_back(std::move(c));
  }
  report.results =
      skillmatch::evaluate(report.data, eval_configs, request.cutoffs, report.depth, progress);
  return report;
}

PullResult Engine::pull(const std::string& repo_id, const PullOptions& options) {
  return pull_model(repo_id, options);
}

}  // namespace skillmatch

namespace skillmatch {

const EngineOptions& engine_options(const Engine::Impl& impl) {
  return impl.opt;
}

}  // namespace skillmatch
