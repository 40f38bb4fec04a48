// The option tables of `train embedder`, `train reranker` and `mine-negatives`: names (the
// command-line flags), ranges, defaults and help in one place.
#include <limits>
#include <set>

#include "skillmatch/engine.h"

namespace skillmatch {
namespace {

constexpr std::size_t kMaxCount = std::size_t{1} << 40;

// The options of TrainSettings, for either request (`get` returns its TrainSettings).
template <class T, class Get>
void add_train_settings(OptionTable<T>& t, Get get) {
  t.add(count_option<T>(
      "epochs", "passes over the training data (default 1)",
      [get](T& o) -> std::size_t& { return get(o).epochs; }, 1, 100000));
  t.add(count_option<T>(
      "grad-accum", "batches whose gradients are summed per optimizer step (default 1)",
      [get](T& o) -> std::size_t& { return get(o).grad_accum; }, 1, 65536));
  t.add(number_option<T>(
      "lr", "peak learning rate of AdamW (0 to 1, default 2e-5)",
      [get](T& o) -> double& { return get(o).lr; }, 0, 1));
  t.add(number_option<T>(
      "warmup-ratio",
      "share of the steps with linear warm-up, then linear decay to 0 (0 to 1, default 0.1)",
      [get](T& o) -> double& { return get(o).warmup_ratio; }, 0, 1));
  t.add(number_option<T>(
      "weight-decay",
      "AdamW weight decay, on all but biases and LayerNorm weights (0 to 1, default 0.01)",
      [get](T& o) -> double& { return get(o).weight_decay; }, 0, 1));
  t.add(number_option<T>(
      "max-grad-norm",
      "clip gradients to this global L2 norm; 0: no clipping (0 to 1e6, "
      "default 1)",
      [get](T& o) -> double& { return get(o).max_grad_norm; }, 0, 1e6));
  t.add(count_option<T>(
      "seed", "seed of initialisation, data order, sampling and dropout (default 42)",
      [get](T& o) -> std::uint64_t& { return get(o).seed; }, 0,
      std::numeric_limits<std::uint32_t>::max()));
  t.add(choice_option<T>(
      "dtype",
      "float32, or bfloat16: forward passes under bfloat16 autocast as torch.autocast('cpu', "
      "torch.bfloat16) does, weights and optimizer in float32 (default float32)",
      {"float32", "bfloat16"},
      [get](T& o, const std::string& v) { get(o).bf16 = v == "bfloat16"; }));
  t.add(flag_option<T>(
      "dropout", "config.json's dropout probabilities during training (default on)",
      [get](T& o) -> bool& { return get(o).dropout; }, true));
  t.add(count_option<T>(
      "max-steps", "stop after this many optimizer steps; 0: all epochs (default 0)",
      [get](T& o) -> std::size_t& { return get(o).max_steps; }, 0, kMaxCount));
  t.add(count_option<T>(
      "log-steps", "a progress line every N optimizer steps (default 10)",
      [get](T& o) -> std::size_t& { return get(o).log_steps; }, 1, kMaxCount));
  t.add(count_option<T>(
      "eval-steps", "evaluate on --eval every N steps; 0: after each epoch (default 0)",
      [get](T& o) -> std::size_t& { return get(o).eval_steps; }, 0, kMaxCount));
  t.add(count_option<T>(
      "save-steps",
      "write a checkpoint (for --resume) every N steps and after each epoch "
      "(default 50)",
      [get](T& o) -> std::size_t& { return get(o).save_steps; }, 1, kMaxCount));
  t.add(text_option<T>("metric", "NAME",
                       "evaluation metric that selects the checkpoint saved (default mrr@10)",
                       [get](T& o) -> std::string& { return get(o).metric; }));
  t.add(text_option<T>("out", "DIR", "the model folder to write (staged and renamed into place)",
                       [get](T& o) -> std::filesystem::path& { return get(o).out; }));
  t.add(text_option<T>(
      "run-dir", "DIR",
      "checkpoints of the run, for --resume (default OUT.run; removed after success)",
      [get](T& o) -> std::filesystem::path& { return get(o).run_dir; }));
  t.add(flag_option<T>(
      "resume", "continue the interrupted run in the run folder to the identical state",
      [get](T& o) -> bool& { return get(o).resume; }, false));
  t.add(flag_option<T>(
      "keep-run-dir", "keep the run folder (checkpoints, best weights) after success",
      [get](T& o) -> bool& { return get(o).keep_run_dir; }, false));
  t.add(choice_option<T>("save-dtype",
                         "number type of the saved model.safetensors: float32, float16 or "
                         "bfloat16 (default float32)",
                         {"float32", "float16", "bfloat16"}, [get](T& o, const std::string& v) {
                           get(o).save_dtype = v == "float16"    ? TensorDType::kF16
                                               : v == "bfloat16" ? TensorDType::kBF16
                                                                 : TensorDType::kF32;
                         }));
}

// base, train, eval, eval-limit, taxonomy: the request's data.
template <class T>
void add_train_data(OptionTable<T>& t) {
  t.add(text_option<T>("base", "MODEL",
                       "model folder or Hub id to start from; a folder with config.json and a "
                       "tokenizer but no weights starts from random weights",
                       [](T& o) -> std::string& { return o.base; }));
  t.add(text_option<T>("train", "FILE",
                       "training data: sentence-transformers triples, FlagEmbedding JSON Lines "
                       "{query, pos, neg}, or labelled pairs {query, passage, label}",
                       [](T& o) -> std::filesystem::path& { return o.train_file; }));
  t.add(text_option<T>("eval", "FILE",
                       "evaluation dataset (as `skillmatch eval` reads it), evaluated during "
                       "training; the best checkpoint is saved",
                       [](T& o) -> std::filesystem::path& { return o.eval_file; }));
  t.add(count_option<T>(
      "eval-limit", "evaluate only the first N queries of --eval; 0: all (default 0)",
      [](T& o) -> std::size_t& { return o.eval_limit; }, 0, kMaxCount));
  t.add(list_option<T>(
      "taxonomy", "NAME",
      "only skills of this taxonomy resolve URIs and make the evaluation corpus (repeatable)",
      [](T& o) -> std::vector<std::string>& { return o.corpus.taxonomies; }));
}

OptionTable<TrainEmbedderOptions> make_embedder_table() {
  using O = TrainEmbedderOptions;
  OptionTable<O> t;
  add_train_data(t);
  t.add(text_option<O>("template", "TEXT",
                       "how a skill named by URI renders, and the evaluation passages: the "
                       "index template (default \"passage: {label}: {description}\")",
                       [](O& o) -> std::string& { return o.passage_template; }));
  t.add(choice_option<O>(
      "loss",
      "mnrl (MultipleNegativesRankingLoss) or cached-mnrl (its gradient-cached variant: the "
      "same loss and gradients in the memory of --mini-batch texts) (default mnrl)",
      {"mnrl", "cached-mnrl"}, [](O& o, const std::string& v) {
        o.settings.loss = v == "mnrl" ? EmbedderLoss::kMnrl : EmbedderLoss::kCachedMnrl;
      }));
  t.add(count_option<O>(
      "batch-size",
      "anchors per batch; each is scored against every positive and negative of "
      "the batch (default 32)",
      [](O& o) -> std::size_t& { return o.settings.train.batch_size; }, 1, 1 << 20));
  t.add(count_option<O>(
      "mini-batch", "cached-mnrl: texts per forward pass (default 32)",
      [](O& o) -> std::size_t& { return o.settings.mini_batch; }, 1, 1 << 20));
  t.add(number_option<O>(
      "scale", "similarity scale (inverse temperature) of the loss (0.01 to 1000, default 20)",
      [](O& o) -> double& { return o.settings.scale; }, 0.01, 1000));
  t.add(count_option<O>(
      "max-length", "ids per text; 0: the model's max_seq_length (default 0)",
      [](O& o) -> std::size_t& { return o.settings.max_length; }, 0, 8192));
  t.add(flag_option<O>(
      "no-duplicates",
      "batches without a repeated text (query, positive or negative), as sentence-transformers' "
      "NO_DUPLICATES batch sampler: a repeated text is a false in-batch negative (default off)",
      [](O& o) -> bool& { return o.settings.train.no_duplicates; }, false));
  t.add(count_option<O>(
      "negatives", "hard negatives per anchor at most, sampled when a row has more (default 1)",
      [](O& o) -> std::size_t& { return o.settings.negatives; }, 0, 1024));
  t.add(text_option<O>("query-prompt", "TEXT",
                       "put before every query; saved as the \"query\" prompt (default "
                       "\"query: \")",
                       [](O& o) -> std::string& { return o.settings.query_prompt; }));
  t.add(text_option<O>("passage-prompt", "TEXT",
                       "put before every literal positive and negative; saved as the \"passage\" "
                       "prompt (default \"passage: \")",
                       [](O& o) -> std::string& { return o.settings.passage_prompt; }));
  add_train_settings(t, [](O& o) -> TrainSettings& { return o.settings.train; });
  return t;
}

OptionTable<TrainRerankerOptions> make_reranker_table() {
  using O = TrainRerankerOptions;
  OptionTable<O> t;
  add_train_data(t);
  t.add(text_option<O>("template", "TEXT",
                       "how a skill named by URI renders for the reranker, also in evaluation "
                       "(default \"{label}\")",
                       [](O& o) -> std::string& { return o.rerank_template; }));
  t.add(choice_option<O>(
      "loss",
      "group-ce (FlagEmbedding: cross-entropy over one positive and group-size - 1 negatives) "
      "or bce (sentence-transformers' CrossEncoder: binary cross-entropy on labelled pairs; "
      "groups count as positive and negative pairs) (default group-ce)",
      {"group-ce", "bce"}, [](O& o, const std::string& v) {
        o.settings.loss =
            v == "bce" ? RerankerLoss::kBinaryCrossEntropy : RerankerLoss::kGroupCrossEntropy;
      }));
  t.add(count_option<O>(
      "batch-size", "queries (group-ce) or pairs (bce) per batch (default 32)",
      [](O& o) -> std::size_t& { return o.settings.train.batch_size; }, 1, 1 << 20));
  t.add(count_option<O>(
      "group-size",
      "group-ce: pairs per query, the positive and group-size - 1 negatives "
      "(default 8)",
      [](O& o) -> std::size_t& { return o.settings.group_size; }, 2, 1024));
  t.add(count_option<O>(
      "query-max-length", "query ids kept (FlagEmbedding's query_max_len, default 32)",
      [](O& o) -> std::size_t& { return o.settings.query_max_length; }, 1, 8192));
  t.add(count_option<O>(
      "passage-max-length", "passage ids kept (FlagEmbedding's passage_max_len, default 128)",
      [](O& o) -> std::size_t& { return o.settings.passage_max_length; }, 1, 8192));
  t.add(text_option<O>("eval-retrieval", "OPTIONS",
                       "evaluation: the retrieval whose candidates are reranked, as match "
                       "options key=value (default \"mode=bm25\")",
                       [](O& o) -> std::string& { return o.eval_retrieval; }));
  t.add(count_option<O>(
      "eval-depth", "evaluation: candidates retrieved and reranked per query (default 100)",
      [](O& o) -> std::size_t& { return o.eval_depth; }, 1, 10000));
  add_train_settings(t, [](O& o) -> TrainSettings& { return o.settings.train; });
  return t;
}

OptionTable<MineOptions> make_mine_table() {
  using O = MineOptions;
  OptionTable<O> t;
  t.add(text_option<O>("input", "FILE",
                       "rows with a query and positives (any training format; URIs, labels or "
                       "texts as positives)",
                       [](O& o) -> std::filesystem::path& { return o.input; }));
  t.add(text_option<O>("out", "FILE", "FlagEmbedding JSON Lines {query, pos, neg} to write",
                       [](O& o) -> std::filesystem::path& { return o.output; }));
  t.add(text_option<O>("corpus", "FILE",
                       "candidates from this JSON Lines file ({\"text\": ...} per line) instead "
                       "of the workspace's skills",
                       [](O& o) -> std::filesystem::path& { return o.corpus_file; }));
  // The match options that say how the workspace's skills are ranked.
  const std::set<std::string> forwarded = {"embedder",   "template",     "dtype",
                                           "batch-size", "bm25-weights", "taxonomy",
                                           "collection", "skill-type",   "group"};
  for (const Option<MatchOptions>& m : match_option_table().options()) {
    if (!forwarded.count(m.name)) continue;
    Option<O> o;
    o.name = m.name;
    o.value_name = m.value_name;
    o.help = m.name == "embedder"
                 ? "bi-encoder that ranks the candidates (default: BM25, for a first model)"
                 : m.help;
    o.flag = m.flag;
    o.default_on = m.default_on;
    o.list = m.list;
    o.set_text = [f = m.set_text](O& x, const std::string& v) { f(x.match, v); };
    o.set_json = [f = m.set_json](O& x, const nlohmann::json& v) { f(x.match, v); };
    t.add(o);
  }
  t.add(text_option<O>("negative-template", "TEXT",
                       "how a skill negative is written when the row's positives are texts; "
                       "URI positives get URI negatives (default \"{label}\")",
                       [](O& o) -> std::string& { return o.negative_template; }));
  t.add(count_option<O>(
      "range-min",
      "first rank (0-based) negatives are taken from (default 10, as "
      "FlagEmbedding's hn_mine)",
      [](O& o) -> std::size_t& { return o.mining.range_min; }, 0, 100000));
  t.add(count_option<O>(
      "range-max", "rank negatives are taken below (default 210)",
      [](O& o) -> std::size_t& { return o.mining.range_max; }, 1, 100000));
  t.add(count_option<O>(
      "negatives", "negatives per query at most (default 15)",
      [](O& o) -> std::size_t& { return o.mining.negatives; }, 1, 100000));
  t.add(choice_option<O>("sampling",
                         "random (from the window, as hn_mine) or top (the best-ranked) (default "
                         "random)",
                         {"random", "top"}, [](O& o, const std::string& v) {
                           o.mining.random_sampling = v == "random";
                         }));
  t.add(number_option<O>(
      "relative-margin",
      "skip candidates scoring above (1 - X) times the query's lowest positive score (0 to 1; "
      "0.05 in NV-Retriever; needs --embedder)",
      [](O& o) -> std::optional<double>& { return o.mining.relative_margin; }, 0, 1));
  t.add(number_option<O>(
      "absolute-margin",
      "skip candidates scoring above the lowest positive score minus X (-2 to 2; needs "
      "--embedder)",
      [](O& o) -> std::optional<double>& { return o.mining.absolute_margin; }, -2, 2));
  t.add(number_option<O>(
      "max-score", "skip candidates with a cosine above X (-1 to 1; needs --embedder)",
      [](O& o) -> std::optional<double>& { return o.mining.max_score; }, -1, 1));
  t.add(number_option<O>(
      "min-score", "skip candidates with a cosine below X (-1 to 1; needs --embedder)",
      [](O& o) -> std::optional<double>& { return o.mining.min_score; }, -1, 1));
  t.add(flag_option<O>(
      "fill-random",
      "fill rows left with fewer than --negatives with random candidates (not positives), as "
      "hn_mine does (default on)",
      [](O& o) -> bool& { return o.mining.fill_random; }, true));
  t.add(count_option<O>(
      "seed", "seed of random sampling (default 42)",
      [](O& o) -> std::uint64_t& { return o.mining.seed; }, 0,
      std::numeric_limits<std::uint32_t>::max()));
  return t;
}

}  // namespace

const OptionTable<TrainEmbedderOptions>& train_embedder_option_table() {
  static const OptionTable<TrainEmbedderOptions> t = make_embedder_table();
  return t;
}
const OptionTable<TrainRerankerOptions>& train_reranker_option_table() {
  static const OptionTable<TrainRerankerOptions> t = make_reranker_table();
  return t;
}
const OptionTable<MineOptions>& mine_option_table() {
  static const OptionTable<MineOptions> t = make_mine_table();
  return t;
}

}  // namespace skillmatch
