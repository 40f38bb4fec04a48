// Fine-tuning the two models of the pipeline on libtorch, writing Hugging Face folders that
// sentence-transformers, FlagEmbedding and skillmatch load unchanged.
//
//  - Bi-encoder: MultipleNegativesRankingLoss as sentence-transformers defines it (each anchor
//    scored by cosine x scale against every positive and hard negative of the batch,
//    cross-entropy to its own positive), or its cached variant (GradCache: embeddings without a
//    graph in mini-batches, the loss gradient on the embeddings, then each mini-batch embedded
//    again with a graph and back-propagated; dropout masks replayed), so that large batches fit
//    in little memory.
//  - Cross-encoder: FlagEmbedding's group cross-entropy (one positive and group_size - 1
//    negatives per query, target 0) or sentence-transformers' CrossEncoder binary cross-entropy
//    on labelled pairs.
//  - Optimisation as Hugging Face's Trainer does it: AdamW (weight decay on every parameter but
//    biases and LayerNorm weights), linear warm-up then linear decay (the first step runs at
//    learning rate 0 when there is warm-up), gradient clipping by global norm, gradient
//    accumulation (the loss divided by the number of accumulated batches), optional bfloat16
//    autocast, dropout from config.json. Deterministic for a seed and a thread count.
//  - A base folder without weights (config and tokenizer only) is initialised at random, as
//    transformers initialises XLM-R (normal(0, initializer_range), zero biases, LayerNorm 1/0,
//    padding rows 0), from the seed.
//  - Checkpoints (weights, AdamW state, step, data position, random state) go to a run folder;
//    `resume` continues from the last one to the identical state. The output folder is staged
//    and renamed into place: an interrupted run leaves no half folder.
//
// Ownership: the functions own their model for the duration of the call; results are values.
// Thread-safety: one training per process at a time (it seeds libtorch's global random
// generator and uses its intra-op thread pool); callbacks run on the calling thread.
// Errors: kInvalidArgument for unusable settings or data (an empty group for group
// cross-entropy names its file and line, a resume whose settings or data differ from the run's),
// kNotFound / kCorrupt / kUnsupported for the base folder as loading reports them, kIo for
// writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "skillmatch/core/matrix.h"
#include "skillmatch/eval/metrics.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/model/model_folder.h"
#include "skillmatch/model/safetensors.h"
#include "skillmatch/train/train_data.h"

namespace skillmatch {

enum class EmbedderLoss { kMnrl, kCachedMnrl };
enum class RerankerLoss { kGroupCrossEntropy, kBinaryCrossEntropy };

const char* embedder_loss_name(EmbedderLoss loss) noexcept;  // "mnrl", "cached-mnrl"
const char* reranker_loss_name(RerankerLoss loss) noexcept;  // "group-ce", "bce"

// What both trainers share. Defaults are those of sentence-transformers' and Hugging Face's
// trainers unless stated.
struct TrainSettings {
  std::size_t epochs = 1;
  std::size_t batch_size = 32;  // examples (queries) per batch
  std::size_t grad_accum = 1;   // batches per optimizer step
  double lr = 2e-5;
  double warmup_ratio = 0.1;  // warm-up steps = ceil(ratio * total steps)
  double weight_decay = 0.01;
  double max_grad_norm = 1.0;  // 0: no clipping
  std::uint64_t seed = 42;
  bool bf16 = false;          // bfloat16 autocast of the forward passes
  bool dropout = true;        // config.json's dropout probabilities during training
  std::size_t max_steps = 0;  // stop after this many optimizer steps (0: all epochs)
  // Batches without a repeated text (bi-encoder: query, positives, negatives), as
  // sentence-transformers' NO_DUPLICATES batch sampler: a text twice in a batch is a false
  // in-batch negative for MNRL.
  bool no_duplicates = false;
  std::size_t log_steps = 10;     // a progress line every N steps
  std::size_t eval_steps = 0;     // evaluate every N steps (0: after each epoch)
  std::size_t save_steps = 50;    // checkpoint every N steps (and after each epoch)
  std::string metric = "mrr@10";  // the evaluation metric that selects the best checkpoint
  std::filesystem::path out;      // the final model folder
  std::filesystem::path run_dir;  // checkpoints; empty: <out>.run
  bool resume = false;            // continue the run in run_dir
  bool keep_run_dir = false;      // keep run_dir after success (default: removed)
  TensorDType save_dtype = TensorDType::kF32;  // F32, F16 or BF16
};

struct EmbedderTrainSettings {
  TrainSettings train;
  EmbedderLoss loss = EmbedderLoss::kMnrl;
  double scale = 20;            // cosine similarities are multiplied by this
  std::size_t mini_batch = 32;  // cached-mnrl: texts per forward pass
  std::size_t max_length = 0;   // ids per text; 0: the model's max_seq_length
  std::size_t negatives = 1;    // hard negatives per anchor at most (sampled when more)
  // Literal prompts put before queries and passages (as `SentenceTransformer.encode` with the
  // model's prompts does). Rendered workspace skills get none (their template has it). They are
  // written to config_sentence_transformers.json as the "query" and "passage" prompts.
  std::string query_prompt = "query: ";
  std::string passage_prompt = "passage: ";
};

struct RerankerTrainSettings {
  TrainSettings train;
  RerankerLoss loss = RerankerLoss::kGroupCrossEntropy;
  std::size_t group_size = 8;  // group-ce: one positive and group_size - 1 negatives
  // Pair truncation as FlagEmbedding's trainer: the query cut to query_max_length +
  // passage_max_length / 4 ids, the passage to passage_max_length + query_max_length / 2, then
  // the passage so that the pair fits query_max_length + passage_max_length.
  std::size_t query_max_length = 32;
  std::size_t passage_max_length = 128;
};

// The model being trained, as an evaluation sees it (eval mode, no gradients, float32). Valid
// only during the call that hands it out.
class TrainingModelView {
 public:
  virtual ~TrainingModelView() = default;
  // Bi-encoder: sentence embeddings of `prompt + text`, pooled and normalised as the saved
  // model will do ([texts, dimension]).
  virtual Matrix embed(const std::vector<std::string>& texts, const std::string& prompt) const = 0;
  // Cross-encoder: raw logits of (query, passage) pairs, truncated as the saved model is at
  // inference (`eval` gives the same numbers).
  virtual std::vector<float> score(const std::vector<TextPair>& pairs) const = 0;
};

// One progress line's numbers.
struct TrainProgress {
  std::size_t step = 0, total_steps = 0;
  double epoch = 0;              // fractional
  double loss = 0;               // mean over the steps since the last line
  double lr = 0;                 // of the last step
  double tokens_per_second = 0;  // input tokens (without padding) since the last line
  double seconds = 0;            // since the start (or resume)
};

struct TrainEvents {
  std::function<void(const TrainProgress&)> on_progress;
  std::function<void(const std::string& message)> note;
  // Evaluates the model; the metric named by TrainSettings::metric selects the best checkpoint.
  // Called every eval_steps and at the end. Null: no evaluation (the final weights are saved).
  std::function<MetricValues(const TrainingModelView&)> evaluate;
};

struct TrainReport {
  std::filesystem::path out;
  std::size_t steps = 0, total_steps = 0;
  std::size_t examples = 0;
  std::size_t resumed_from_step = 0;  // 0: a fresh run
  double final_loss = 0;              // mean loss of the last logged interval
  double tokens_per_second = 0;       // over the whole run (after the first step)
  double seconds = 0;
  std::size_t peak_rss_bytes = 0;  // of the process (VmHWM)
  // Evaluations by step; the saved model is the best one by `metric` when there were any.
  std::vector<std::pair<std::size_t, MetricValues>> evaluations;
  std::optional<std::size_t> best_step;
  std::optional<double> best_metric;
};

// Trains a bi-encoder from `base` (a sentence-transformers folder, a plain XLM-R folder, or one
// with config and tokenizer but no weights) on `data`, and writes the result to settings.out.
TrainReport train_embedder(const ModelFolder& base, const std::vector<TrainExample>& data,
                           const EmbedderTrainSettings& settings, const TrainEvents& events = {});

// Trains a cross-encoder. A base that is not a sequence classifier gets a classification head
// (one label) initialised at random, as AutoModelForSequenceClassification does.
TrainReport train_reranker(const ModelFolder& base, const std::vector<TrainExample>& data,
                           const RerankerTrainSettings& settings, const TrainEvents& events = {});

// ---------------------------------------------------------------- hard-negative selection
// Which ranked candidates of one query become negatives: FlagEmbedding's hn_mine rank window
// with sentence-transformers' mine_hard_negatives safeguards.
struct MiningSettings {
  std::size_t range_min = 10;  // ranks [range_min, range_max) of the ranking (0-based)
  std::size_t range_max = 210;
  std::size_t negatives = 15;   // per query at most
  bool random_sampling = true;  // false: the best-ranked that pass ("top")
  // A candidate is skipped when its score exceeds the query's lowest positive score minus
  // absolute_margin, or that score times (1 - relative_margin), or max_score; or is below
  // min_score.
  std::optional<double> absolute_margin, relative_margin, max_score, min_score;
  // A query left with fewer than `negatives` is filled up with random corpus entries (not its
  // positives), as hn_mine does, so that no group is empty.
  bool fill_random = true;
  std::uint64_t seed = 42;
};

struct RankedCandidate {
  std::size_t id = 0;  // the caller's corpus index
  double score = 0;
};

struct MiningStats {
  std::size_t queries = 0, candidates = 0;  // candidates inside the window
  std::size_t positives_skipped = 0, margin_skipped = 0, max_score_skipped = 0,
              min_score_skipped = 0;
  std::size_t short_queries = 0;  // queries that got fewer than `negatives` from the window
  std::size_t random_filled = 0;  // negatives drawn at random to fill short queries
  std::size_t negatives = 0;
};

// The negatives of one query (corpus ids: those from the window best-ranked first, then random
// fill-ups with a NaN score). `ranked` is best first; `is_positive(id)` says which candidates
// are the query's positives (or the query itself); `positive_score` is the lowest positive
// score (needed by the margins); `corpus_size` bounds the ids of random fill-ups. Sampling
// draws from a generator seeded by settings.seed and `query_index`, so the result does not
// depend on the order queries are processed in.
std::vector<RankedCandidate> select_negatives(const std::vector<RankedCandidate>& ranked,
                                              const std::function<bool(std::size_t)>& is_positive,
                                              std::optional<double> positive_score,
                                              const MiningSettings& settings,
                                              std::size_t query_index, std::size_t corpus_size,
                                              MiningStats& stats);

}  // namespace skillmatch
