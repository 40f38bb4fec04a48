// The front door of the library: one Engine opens a workspace, loads each model once, keeps the
// skill vectors and their indexes, and offers every operation skillmatch has: tokenize, embed,
// rerank, import, index, match (one text or a batch), evaluate, pull. The CLI, the HTTP service,
// the trainer and the benchmarks all go through it, so that options, defaults and errors are the
// same everywhere.
//
// Requests are plain structs (EmbedOptions, RerankOptions, MatchOptions, ...). Each has one
// option table (see options.h) that reads it from command-line flags, from `key=value` lists
// and from JSON bodies with the same names, ranges and messages.
//
// Ownership: an Engine owns its models, vectors, indexes and workspace connections; results are
// values. Models are shared by all callers and never unloaded while the Engine lives. A model
// name (a folder or a Hub id) is resolved to its folder once per Engine: a `pull` that moves a
// Hub id to a new revision is seen by the next Engine, not by a running one.
//
// Thread-safety: any number of threads may call one Engine at once. Models and vectors are
// shared read-only (a model is loaded once however many threads ask for it at the same time);
// each call takes a workspace connection of its own from a pool (SQLite in WAL mode with a busy
// timeout). Another process writing the workspace (an `import` or `index` while a service
// runs) is seen safely: the skill snapshot and the dense index are rebuilt on the next call
// after a change, and a call never sees half of one.
//
// Errors: skillmatch::Error. kInvalidArgument for bad options or texts (naming the option or the
// text), kNotFound for missing models or workspaces, kCorrupt/kUnsupported for files skillmatch
// cannot read, kIo for the operating system's refusals.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "skillmatch/catalog/skill_format.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "skillmatch/catalog/workspace.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/matrix.h"
#include "skillmatch/eval/dataset.h"
#include "skillmatch/eval/evaluator.h"
#include "skillmatch/eval/metrics.h"
#include "skillmatch/hub/hub_download.h"
#include "skillmatch/index/ann_index.h"
#include "skillmatch/index/indexer.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/model/runtime.h"
#include "skillmatch/options.h"
#include "skillmatch/search/matcher.h"
#include "skillmatch/text/tokenizer.h"
#include "skillmatch/train/trainer.h"

namespace skillmatch {

// The longest text a match request takes (bytes of UTF-8).
inline constexpr std::size_t kMaxTextBytes = 1u << 20;

// What match and match_batch require of each text: valid UTF-8, not blank, at most
// kMaxTextBytes. Throws kInvalidArgument naming "the text" (one) or "text N" (several).
void check_match_texts(const std::vector<std::string>& texts);

// Dynamic batching of model work across callers, for a service: one worker runs the inputs of
// many concurrent requests through a model together (see src/engine/inference_queue.h).
struct BatchingOptions {
  bool enabled = false;                       // off: each call runs its model work itself
  std::size_t max_batch_tokens = 16384;       // tokens of one pass across requests
  std::size_t max_queue = 1024;               // jobs waiting; more are refused (kBusy)
  std::chrono::milliseconds max_wait{60000};  // a job that waited longer is refused (kBusy)
};

struct EngineOptions {
  std::filesystem::path workspace;  // empty: default_workspace()
  // Create the workspace on first use and import the shipped taxonomies (ESCO German, GRETA)
  // into it; a workspace made from an older revision of the shipped data is brought up to date.
  bool seed_defaults = true;
  std::filesystem::path data_dir;  // the shipped data; empty: shipped_data_dir()
  int threads = 0;                 // compute threads of the models; 0: all available cores
  BatchingOptions batching;
  // Reranker scores kept, keyed by the pair's token ids, so that an editor's repeated request
  // is not scored again (0: none; the service keeps 200,000). A cached score was computed in
  // another batch, so it may differ from a fresh one in the last bits of float32.
  std::size_t rerank_cache_entries = 0;
  // Notes for the user ("imported ...", "indexing 13891 skills ...").
  std::function<void(const std::string& message)> log;
  // Progress of long steps (indexing): what, done, total.
  std::function<void(const std::string& what, std::size_t done, std::size_t total)> progress;
};

// $SKILLMATCH_WORKSPACE, else $XDG_DATA_HOME/skillmatch, else ~/.local/share/skillmatch.
std::filesystem::path default_workspace();
// $SKILLMATCH_DATA, else the data/ folder of the source tree skillmatch was built from.
std::filesystem::path shipped_data_dir();

// The name of the embedder skillmatch ships in <data>/models/ (a small model it trained itself
// from the shipped ESCO data, see scripts/train_default_model.sh and its model card).
inline constexpr const char* kDefaultEmbedderName = "skillmatch-esco-small";
// Its folder under `data_dir` when it is there (config.json and model.safetensors present);
// empty otherwise. What `match` and `serve` use when no --embedder is given.
std::filesystem::path default_embedder(const std::filesystem::path& data_dir = shipped_data_dir());

// How a model is loaded: number type and sequences per forward pass (the model cache is keyed
// by both).
struct ModelSettings {
  DType dtype = DType::kAuto;
  std::size_t batch_size = 32;
};

struct TokenizeOptions {
  std::string model;  // folder, Hub id in the cache, sentencepiece.bpe.model or tokenizer.json
  std::size_t max_length = 512;    // ids per text or pair, specials included
  bool add_special_tokens = true;  // false: the content ids only
  std::string prompt_name;         // a named prompt of the model put before each text
};

struct EmbedOptions {
  std::string model;
  // The named prompt of the model ("query", "passage") or "none"; empty: the model's
  // default_prompt_name, if any (as sentence-transformers and TEI do).
  std::string prompt_name;
  std::optional<std::string> prompt_text;  // a literal prompt; wins over prompt_name
  bool normalize = true;       // false: the pooled vector without the model's Normalize module
  bool truncate = true;        // false: a text longer than the model's max length is an error
  bool truncate_left = false;  // cut from the start instead of the end (TEI's direction Left)
  ModelSettings settings;
};

struct RerankOptions {
  std::string model;
  PairOptions pair;
  ModelSettings settings;
};

struct IndexOptions {
  std::string embedder;
  std::string passage_template = kDefaultPassageTemplate;
  ModelSettings settings;
  bool ann = false;  // also build the HNSW graph
  AnnOptions ann_options;
  SkillFilter filter;  // only these skills (default: all)
  // Also write the vectors of the indexed skills here (a vector file keyed by passage hash, see
  // model_vectors_file()); empty: none.
  std::string export_vectors;
};

struct MatchOptions {
  std::string embedder;                                    // empty: no dense retrieval (mode bm25)
  std::string reranker;                                    // empty: no reranking
  std::string passage_template = kDefaultPassageTemplate;  // what the skill vectors embed
  ModelSettings settings;
  // Embed the skills the embedder has no vectors for before matching (with progress); false:
  // such a request is refused, naming `skillmatch index`.
  bool auto_index = true;
  SearchOptions search;
};

// The option tables (see options.h). Names are those of the command line without "--".
const OptionTable<TokenizeOptions>& tokenize_option_table();
const OptionTable<EmbedOptions>& embed_option_table();
const OptionTable<RerankOptions>& rerank_option_table();
const OptionTable<IndexOptions>& index_option_table();
const OptionTable<MatchOptions>& match_option_table();

// How skillmatch reads a model folder.
struct ModelInfo {
  std::string name;              // as given
  std::filesystem::path folder;  // resolved
  std::string fingerprint;       // of config and weights (what vector files record)
  ModelKind kind = ModelKind::kBiEncoder;
  std::string architecture;
  std::int64_t layers = 0, hidden_size = 0, heads = 0, vocab_size = 0;
  std::string tokenizer_file;     // tokenizer.json or sentencepiece.bpe.model
  DType dtype = DType::kFloat32;  // resolved compute type
  // bi-encoder
  std::size_t dimension = 0, max_seq_length = 0;
  std::string pooling;
  bool normalize = false;
  std::map<std::string, std::string> prompts;
  std::string default_prompt_name;
  // cross-encoder
  std::size_t max_length = 0;
};

// What to import; see taxonomy_import.h for the file formats.
struct ImportRequest {
  std::string format;  // esco (CSV or the official .zip), greta, custom, defaults
  std::filesystem::path file;
  std::string name;  // taxonomy name; default esco-<language>, greta
  std::string language = "de";
  std::string version;
  std::vector<std::filesystem::path> collections;  // ESCO collection CSVs to attach
  std::filesystem::path hierarchy, groups;         // ESCO broader relations + skill groups
  ColumnMapping mapping;                           // custom
  bool replace = false;  // allow removing skills the new data no longer has
};

struct IndexReport {
  IndexStats stats;
  std::size_t exported = 0;  // vectors written to IndexOptions::export_vectors
  std::filesystem::path vector_file;
  bool ann_built = false, ann_up_to_date = false;
  double ann_seconds = 0;
};

// A skill named by its workspace id, or by taxonomy and URI (the taxonomy may be left out when
// the URI is unique in the workspace).
struct SkillRef {
  std::int64_t id = 0;
  std::string taxonomy, uri;
};

struct FeedbackInput {
  std::string text;
  std::vector<SkillRef> accepted, rejected, added;
  std::string request_id;  // of the match request the decisions are about
  std::string models;      // JSON naming the models that made the suggestions
};

// What the engine has done, for a service's /metrics.
struct EngineStats {
  std::uint64_t batches = 0, batched_jobs = 0, batched_inputs = 0, batched_tokens = 0;
  std::uint64_t refused = 0;              // jobs refused as the queue was full or waited too long
  std::size_t queued = 0;                 // jobs waiting now
  std::vector<std::uint64_t> batch_jobs;  // batches by jobs per batch: 1, 2, 3-4, 5-8, ...
  std::uint64_t rerank_cache_hits = 0, rerank_cache_misses = 0;
};

struct EvalRequest {
  struct Config {
    std::string name;  // empty: from the mode ("hybrid+rerank")
    MatchOptions options;
  };
  std::vector<Config> configs;
  MetricCutoffs cutoffs;
  std::size_t depth = 0;  // ranking length (candidates retrieved and reranked); 0: largest k
  std::size_t limit = 0;  // only the first N queries; 0: all
  DatasetOptions dataset;
  SkillFilter corpus;  // the skills a positive may resolve to and a ranking may return
};

struct EvalReport {
  EvalDataset data;
  std::vector<ConfigResult> results;
  std::size_t depth = 0;
  // The corpus, for run files (skill ids -> URIs).
  std::shared_ptr<const SkillResolver> resolver;
};

// The taxonomy an import request names, read and checked (no workspace involved): every file
// of the request is read before anything is written. Errors name the file and line.
TaxonomyData read_import(const ImportRequest& request);

// ================================================================ training (begin)
// `train embedder`, `train reranker` and `mine-negatives`: requests of the trainer (see
// skillmatch/train/trainer.h for the settings and what they mean) and of hard-negative mining.
// Each has an option table (names = command-line flags, ranges stated).

struct TrainEmbedderOptions {
  std::string base;                  // model folder or Hub id; without weights: random init
  std::filesystem::path train_file;  // training data (skillmatch/train/train_data.h)
  std::filesystem::path eval_file;   // optional: a dataset as `eval` reads it
  // How a skill named by URI in the data renders (the index template: what `index` embeds), and
  // the passages of the evaluation corpus.
  std::string passage_template = kDefaultPassageTemplate;
  std::size_t eval_limit = 0;  // only the first N evaluation queries; 0: all
  SkillFilter corpus;          // the skills URIs resolve to and evaluation ranks
  EmbedderTrainSettings settings;
};

struct TrainRerankerOptions {
  std::string base;
  std::filesystem::path train_file;
  std::filesystem::path eval_file;
  // How a skill named by URI renders for the reranker (match's --rerank-template).
  std::string rerank_template = "{label}";
  // Evaluation: each query's candidates come from this retrieval (match options as key=value,
  // e.g. "mode=bm25,bm25-weights=3,0,1" or "mode=dense,embedder=E"); the top `eval_depth` are
  // reranked by the model being trained, as `eval -c ...,reranker=OUT --depth D` does.
  std::string eval_retrieval = "mode=bm25";
  std::size_t eval_depth = 100;
  std::size_t eval_limit = 0;
  SkillFilter corpus;
  RerankerTrainSettings settings;
};

struct MineOptions {
  std::filesystem::path input;   // (anchor|query, positive(s)) rows in any training format
  std::filesystem::path output;  // FlagEmbedding JSON Lines {query, pos, neg}
  // Candidates: the workspace's skills (default; ranked by the bi-encoder `match.embedder` when
  // given, else by BM25), or the texts of a corpus file (JSON Lines {"text"}).
  std::filesystem::path corpus_file;
  MatchOptions match;  // embedder, passage template, dtype, batch size, BM25 weights, filters
  // How a skill negative is written when the row's positives are texts (URIs stay URIs).
  std::string negative_template = "{label}";
  MiningSettings mining;
};

struct MineReport {
  std::size_t rows = 0;
  std::string ranking;  // "dense (MODEL)" or "BM25"
  std::string corpus;   // "workspace (N skills)" or the corpus file
  MiningStats stats;
  std::size_t unresolved_positives = 0;  // positives that named no candidate (not excluded)
};

const OptionTable<TrainEmbedderOptions>& train_embedder_option_table();
const OptionTable<TrainRerankerOptions>& train_reranker_option_table();
const OptionTable<MineOptions>& mine_option_table();
// ================================================================ training (end)

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const std::filesystem::path& workspace_dir() const noexcept;

  // ---------------------------------------------------------------- models
  // Loads the model (once) and describes it.
  ModelInfo model_info(const std::string& model, const ModelSettings& settings = {});
  // Reads the model folder's files without loading the weights: kNotFound/kCorrupt/kUnsupported
  // as loading would throw them, kInvalidArgument when the model is not of `kind`.
  void check_model(const std::string& model, ModelKind kind);
  std::vector<TokenIds> tokenize(const std::vector<std::string>& texts,
                                 const TokenizeOptions& options);
  std::vector<TokenIds> tokenize_pairs(const std::vector<TextPair>& pairs,
                                       const TokenizeOptions& options);
  // The token strings of ids ("<s>", "▁Kurs", ...).
  std::vector<std::string> pieces(const TokenIds& ids, const std::string& model);
  // Text of ids, as Hugging Face's decode gives it.
  std::string decode(const TokenIds& ids, const std::string& model, bool skip_special_tokens);
  // True for the special tokens of the model (<s>, </s>, <pad>, <unk>, <mask>).
  bool is_special_token(std::int32_t id, const std::string& model);
  // Embeddings [texts.size(), dimension], float32, in input order. An empty text is embedded
  // as "<s></s>" (as sentence-transformers does). `tokens`, when given, receives the number of
  // token ids embedded (prompt and special tokens included, after truncation).
  Matrix embed(const std::vector<std::string>& texts, const EmbedOptions& options,
               std::size_t* tokens = nullptr);
  // Embeddings of token ids as given (specials included, as /tokenize gives them); ids outside
  // the vocabulary are refused, sequences longer than the model takes are cut or refused as
  // `options.truncate` says.
  Matrix embed_ids(const std::vector<TokenIds>& ids, const EmbedOptions& options,
                   std::size_t* tokens = nullptr);
  // Raw logits in input order (sigmoid() gives FlagReranker's normalize=True).
  std::vector<float> rerank(const std::vector<TextPair>& pairs, const RerankOptions& options);

  // ---------------------------------------------------------------- workspace
  ImportReport import(const ImportRequest& request);
  std::vector<TaxonomyInfo> taxonomies();
  std::size_t skill_count(const SkillFilter& filter = {});
  std::vector<GroupSummary> groups(const SkillFilter& filter = {});
  std::optional<Skill> skill(std::int64_t id);
  std::optional<Skill> find_skill(const std::string& taxonomy, const std::string& uri);
  // Label search for autocomplete: skills whose label or an alternative label contains `query`
  // (case-insensitive, also for umlauts), labels that start with it first, then shorter labels.
  std::vector<Skill> search_skills(const std::string& query, std::size_t limit,
                                   const SkillFilter& filter = {});
  // The skill a reference names; kInvalidArgument naming it when there is none (or a URI is in
  // several taxonomies and none is given).
  Skill resolve_skill(const SkillRef& ref);

  // ---------------------------------------------------------------- feedback
  // Stores an editor's decisions in feedback.db beside the workspace (one transaction, durable
  // when it returns); returns the entry's id. The skills are resolved (resolve_skill) first.
  std::int64_t add_feedback(const FeedbackInput& input);
  // Every entry as FlagEmbedding training data, one JSON object per line (no newline):
  // {"query", "pos", "neg", "pos_uris", "neg_uris", "id", "created"} with accepted and added
  // skills as positives and rejected ones as negatives, each rendered by `skill_template`.
  void export_feedback(const std::string& skill_template,
                       const std::function<void(const std::string& line)>& write);

  // ---------------------------------------------------------------- index, match, evaluate
  IndexReport index(const IndexOptions& options);
  // Loads what a match with `options` needs (models, the skills' vectors, embedding the missing
  // ones), so that the first request does not wait for it.
  void prepare(const MatchOptions& options);
  // `text` must be valid UTF-8, not blank and at most kMaxTextBytes long.
  std::vector<MatchResult> match(const std::string& text, const MatchOptions& options);
  // Many texts with shared batches; the same checks per text (errors name "text N").
  std::vector<std::vector<MatchResult>> match_batch(const std::vector<std::string>& texts,
                                                    const MatchOptions& options);
  // Every configuration over a dataset (models loaded once); `progress(done, total)` counts
  // queries over all configurations.
  EvalReport evaluate(const std::filesystem::path& dataset, const EvalRequest& request,
                      const ProgressFn& progress = nullptr);

  // ---------------------------------------------------------------- hub
  PullResult pull(const std::string& repo_id, const PullOptions& options = {});

  EngineStats stats() const;
  // The workspace's generation (Workspace::generation()): it changes with every import, so a
  // long-running caller can tell when the skills changed.
  std::uint64_t generation();

  // ---------------------------------------------------------------- training (begin)
  // Fine-tunes a bi-encoder / cross-encoder and writes the Hugging Face folder settings.out
  // (see skillmatch/train/trainer.h). URIs in the data and the evaluation resolve in the
  // workspace; `progress` gets the numbers of each progress line, notes go to EngineOptions::log.
  // One training per process at a time.
  TrainReport train_embedder(const TrainEmbedderOptions& options,
                             const std::function<void(const TrainProgress&)>& progress = nullptr);
  TrainReport train_reranker(const TrainRerankerOptions& options,
                             const std::function<void(const TrainProgress&)>& progress = nullptr);
  // Ranks the candidates for every row of options.input and writes it with mined negatives to
  // options.output (atomically). `progress(done, total)` counts rows.
  MineReport mine_negatives(const MineOptions& options, const ProgressFn& progress = nullptr);
  // ---------------------------------------------------------------- training (end)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skillmatch
