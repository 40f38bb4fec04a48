#include "train/tasks.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <mutex>
#include <numeric>
#include <unordered_set>

#include "core/hash.h"
#include "model/pooling.h"
#include "model/weights.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/model/cross_encoder.h"
#include "train/losses.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

double config_number(const nlohmann::json& config, const char* key, double fallback) {
  auto it = config.find(key);
  return it != config.end() && it->is_number() ? it->get<double>() : fallback;
}

// The base model as the trainer starts from it.
struct Base {
  std::unique_ptr<TrainableXlmr> model;
  Tokenizer tokenizer;
  std::string prefix;      // of the encoder's tensors in the saved file
  std::string weights_id;  // for the fingerprint
};

Base load_base(const ModelFolder& folder, bool classifier, bool pooler, const TrainSettings& s,
               const std::function<void(const std::string&)>& note) {
  const ModelConfig& config = folder.config();
  Base b{nullptr, folder.load_tokenizer(), "", ""};
  SM_CHECK(b.tokenizer.vocab_size() <= config.vocab_size, ErrorKind::kCorrupt,
           folder.dir().string() + ": the tokenizer has " +
               std::to_string(b.tokenizer.vocab_size()) + " ids but config.json's vocab_size is " +
               std::to_string(config.vocab_size));
  const nlohmann::json& doc = folder.documents().config;
  const double init_range = config_number(doc, "initializer_range", 0.02);
  if (folder.weights_file()) {
    const WeightSource w = WeightSource::open(folder.sentence_transformers().transformer_dir,
                                              "embeddings.word_embeddings.weight");
    b.model = std::make_unique<TrainableXlmr>(config, &w, init_range, s.seed, classifier, pooler);
    b.prefix = w.prefix();
    b.weights_id = w.file() + " " + std::to_string(fs::file_size(w.file()));
    if (classifier && !w.unprefixed().has("classifier.dense.weight") && note) {
      note(
          "the base has no classification head: classifier.dense and classifier.out_proj are "
          "initialised at random (seed " +
          std::to_string(s.seed) + ")");
    }
  } else {
    b.model =
        std::make_unique<TrainableXlmr>(config, nullptr, init_range, s.seed, classifier, pooler);
    if (note) {
      note(folder.dir().string() + " has no weights: initialising " +
           std::to_string(config.num_hidden_layers) +
           " layers at random as transformers does "
           "(normal(0, " +
           std::to_string(init_range) + "), seed " + std::to_string(s.seed) + ")");
    }
    b.weights_id = "random " + std::to_string(s.seed);
  }
  if (s.dropout) {
    DropoutRates r;
    r.hidden = config_number(doc, "hidden_dropout_prob", 0.1);
    r.attention = config_number(doc, "attention_probs_dropout_prob", 0.1);
    r.classifier = config_number(doc, "classifier_dropout", r.hidden);
    b.model->set_dropout(r);
  }
  return b;
}

// k distinct indices of [0, n) in random order (partial Fisher-Yates).
std::vector<std::size_t> sample_indices(std::size_t n, std::size_t k, std::mt19937_64& rng) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, n);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(rng() % (n - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  return idx;
}

std::vector<WeightTensor> output_tensors(const TrainableXlmr& m, const std::string& prefix,
                                         TensorDType dtype, std::vector<at::Tensor>& keep) {
  const at::ScalarType st = dtype == TensorDType::kBF16  ? at::kBFloat16
                            : dtype == TensorDType::kF16 ? at::kHalf
                                                         : at::kFloat;
  std::vector<WeightTensor> out;
  for (const auto* list : {&m.params(), &m.frozen()}) {
    for (const TrainParam& p : *list) {
      keep.push_back(p.value.detach().to(st).contiguous());
      const at::Tensor& t = keep.back();
      const bool head = p.name.rfind("classifier.", 0) == 0;
      out.push_back({(head ? "" : prefix) + p.name, dtype,
                     std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr(),
                     static_cast<std::size_t>(t.nbytes())});
    }
  }
  return out;
}

std::uint64_t hash_text(std::uint64_t h, const std::string& s) {
  const std::uint64_t n = s.size();
  fnv1a_mix(h, &n, sizeof n);
  fnv1a_mix(h, s.data(), s.size());
  return h;
}

std::string data_fingerprint(const std::vector<TrainExample>& data, const std::string& base) {
  std::uint64_t h = hash_text(kFnvOffset, base);
  for (const TrainExample& e : data) {
    h = hash_text(h, e.query.text);
    for (const auto* list : {&e.positives, &e.negatives}) {
      h = hash_text(h, std::to_string(list->size()));
      for (const TrainText& t : *list) h = hash_text(h, t.text);
    }
    h = hash_text(h, e.label ? std::to_string(*e.label) : "-");
  }
  return hex64(h);
}

// ================================================================ bi-encoder
class EmbedderTask final : public TrainTask {
 public:
  EmbedderTask(const ModelFolder& folder, const std::vector<TrainExample>& data,
               const EmbedderTrainSettings& s, const std::function<void(const std::string&)>& note)
      : meta_(folder), s_(s) {
    SM_CHECK(folder.kind() == ModelKind::kBiEncoder, ErrorKind::kInvalidArgument,
             folder.dir().string() +
                 " is a cross-encoder (a sequence classifier); train it with `train reranker`");
    SM_CHECK(s.mini_batch >= 1, ErrorKind::kInvalidArgument, "mini-batch must be at least 1");
    Base b = load_base(folder, false, true, s.train, note);
    model_ = std::move(b.model);
    tok_ = std::make_unique<const Tokenizer>(std::move(b.tokenizer));
    prefix_ = b.prefix;
    const SentenceTransformersConfig& st = folder.sentence_transformers();
    pooling_ = st.pooling;
    normalize_ = st.normalize;
    max_len_ = s.max_length
                   ? s.max_length
                   : (st.max_seq_length ? st.max_seq_length : folder.tokenizer_max_length());
    max_len_ =
        std::min<std::size_t>(max_len_, static_cast<std::size_t>(model_->config().max_tokens()));
    SM_CHECK(max_len_ >= 2, ErrorKind::kInvalidArgument, "max-length must be at least 2");
    fingerprint_ = data_fingerprint(data, b.weights_id);
    for (const TrainExample& e : data) {
      SM_CHECK(!e.label, ErrorKind::kInvalidArgument,
               e.where +
                   ": a labelled pair (query, passage, label) cannot train the bi-encoder; it "
                   "needs (anchor, positive) rows. Labelled pairs are for `train reranker --loss "
                   "bce`");
      Example ex;
      ex.query = seq(e.query, s.query_prompt);
      for (const TrainText& t : e.positives) ex.pos.push_back(seq(t, s.passage_prompt));
      for (const TrainText& t : e.negatives) ex.neg.push_back(seq(t, s.passage_prompt));
      examples_.push_back(std::move(ex));
    }
  }

  std::size_t size() const override { return examples_.size(); }
  TrainableXlmr& model() override { return *model_; }
  std::string fingerprint() const override { return fingerprint_; }

  std::vector<std::uint64_t> text_keys(std::size_t row) const override {
    const Example& e = examples_[row];
    auto key = [](const Seq& q) {
      std::uint64_t h = kFnvOffset;
      fnv1a_mix(h, q.ids.data(), q.ids.size() * sizeof(q.ids[0]));
      return h;
    };
    std::vector<std::uint64_t> out{key(e.query)};
    for (const Seq& q : e.pos) out.push_back(key(q));
    for (const Seq& q : e.neg) out.push_back(key(q));
    return out;
  }

  StepResult step(const std::vector<std::size_t>& rows, std::uint64_t epoch,
                  double loss_scale) override {
    // The columns of the batch: anchors, one positive each, then up to `negatives` each.
    std::vector<std::vector<const Seq*>> groups(3);
    for (const std::size_t r : rows) {
      const Example& e = examples_[r];
      std::mt19937_64 rng = example_rng(s_.train.seed, epoch, r);
      groups[0].push_back(&e.query);
      groups[1].push_back(&e.pos[rng() % e.pos.size()]);
      for (const std::size_t k : sample_indices(e.neg.size(), s_.negatives, rng)) {
        groups[2].push_back(&e.neg[k]);
      }
    }
    if (groups[2].empty()) groups.pop_back();
    StepResult result;
    for (const auto& g : groups) {
      for (const Seq* q : g) result.tokens += q->ids.size();
    }
    const AutocastGuard autocast(s_.train.bf16);
    if (s_.loss == EmbedderLoss::kMnrl) {
      std::vector<at::Tensor> emb;
      for (const auto& g : groups) emb.push_back(embed_batch(g, true));
      const at::Tensor loss = mnrl(emb);
      (loss * loss_scale).backward();
      result.loss = loss.item<double>();
      return result;
    }
    // Cached (GradCache): embeddings of every mini-batch without a graph, remembering the
    // random state each started from so that the second pass draws the same dropout masks.
    struct Chunk {
      std::size_t group, begin, end;
      at::Tensor rng;
    };
    std::vector<Chunk> chunks;
    std::vector<at::Tensor> reps;
    {
      const at::NoGradGuard no_grad;
      for (std::size_t g = 0; g < groups.size(); ++g) {
        std::vector<at::Tensor> parts;
        for (std::size_t b = 0; b < groups[g].size(); b += s_.mini_batch) {
          const std::size_t e = std::min(groups[g].size(), b + s_.mini_batch);
          chunks.push_back({g, b, e, get_rng_state()});
          parts.push_back(embed_batch(slice(groups[g], b, e), true));
        }
        reps.push_back(at::cat(parts).detach().set_requires_grad(true));
      }
    }
    const at::Tensor after_first_pass = get_rng_state();
    const at::Tensor loss = mnrl(reps);
    (loss * loss_scale).backward();
    result.loss = loss.item<double>();
    for (const Chunk& c : chunks) {
      set_rng_state(c.rng);
      const at::Tensor emb = embed_batch(slice(groups[c.group], c.begin, c.end), true);
      const at::Tensor grad = reps[c.group].grad().narrow(
          0, static_cast<std::int64_t>(c.begin), static_cast<std::int64_t>(c.end - c.begin));
      emb.backward(grad.to(emb.scalar_type()));
    }
    set_rng_state(after_first_pass);
    return result;
  }

  Matrix embed(const std::vector<std::string>& texts, const std::string& prompt) const override {
    std::vector<Seq> seqs;
    for (const std::string& t : texts) seqs.push_back(seq({t, false}, prompt));
    std::vector<std::size_t> order(seqs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return seqs[a].ids.size() > seqs[b].ids.size();
    });
    Matrix out(texts.size(),
               static_cast<std::size_t>(model_->config().hidden_size) * pooling_.modes.size());
    const at::NoGradGuard no_grad;
    constexpr std::size_t kBatch = 64;
    for (std::size_t b = 0; b < order.size(); b += kBatch) {
      std::vector<const Seq*> batch;
      for (std::size_t i = b; i < std::min(order.size(), b + kBatch); ++i) {
        batch.push_back(&seqs[order[i]]);
      }
      const at::Tensor emb = embed_batch(batch, false).to(at::kFloat).contiguous();
      const float* src = emb.data_ptr<float>();
      for (std::size_t r = 0; r < batch.size(); ++r) {
        std::copy_n(src + r * out.cols, out.cols, out.row(order[b + r]));
      }
    }
    return out;
  }

  std::vector<float> score(const std::vector<TextPair>&) const override {
    throw Error(ErrorKind::kInternal, "a bi-encoder does not score pairs");
  }

  void write(const fs::path& out, TensorDType dtype) const override {
    ModelFolder meta = meta_;
    SentenceTransformersConfig& st = meta.sentence_transformers();
    st.prompts["query"] = s_.query_prompt;
    st.prompts["passage"] = s_.passage_prompt;
    if (s_.max_length) st.max_seq_length = max_len_;
    std::vector<at::Tensor> keep;
    write_model_folder(out, meta, output_tensors(*model_, prefix_, dtype, keep));
  }

 private:
  struct Seq {
    TokenIds ids;
    std::size_t prompt_length = 0;  // leading ids (with <s>) pooling leaves out, if it does
  };
  struct Example {
    Seq query;
    std::vector<Seq> pos, neg;
  };

  Seq seq(const TrainText& t, const std::string& prompt) const {
    const std::string& p = t.rendered ? empty_ : prompt;
    Seq s;
    s.ids = tok_->encode(p + t.text, max_len_);
    if (!pooling_.include_prompt && !p.empty()) {
      s.prompt_length = tok_->encode(p, max_len_).size() - 1;
    }
    return s;
  }

  static std::vector<const Seq*> slice(const std::vector<const Seq*>& v, std::size_t b,
                                       std::size_t e) {
    return {v.begin() + static_cast<std::ptrdiff_t>(b), v.begin() + static_cast<std::ptrdiff_t>(e)};
  }

  // Pooled (and normalised, as the model's modules say) embeddings [n, D] of one padded batch.
  at::Tensor embed_batch(const std::vector<const Seq*>& seqs, bool train) const {
    std::vector<TokenIds> ids;
    ids.reserve(seqs.size());
    for (const Seq* s : seqs) ids.push_back(s->ids);
    std::vector<std::size_t> order(ids.size());
    std::iota(order.begin(), order.end(), 0);
    const PaddedBatch batch = pad_batch(ids, order, model_->config().pad_token_id);
    const at::Tensor hidden = model_->encode(batch, train);
    at::Tensor pool_mask = batch.mask;
    if (!pooling_.include_prompt) {
      pool_mask = batch.mask.clone();
      for (std::size_t r = 0; r < seqs.size(); ++r) {
        const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(seqs[r]->prompt_length),
                                              pool_mask.size(1));
        if (n > 0) pool_mask[static_cast<std::int64_t>(r)].narrow(0, 0, n).zero_();
      }
    }
    return pool_embeddings(hidden, pool_mask, pooling_, 0, normalize_);
  }

  at::Tensor mnrl(const std::vector<at::Tensor>& emb) const {
    const at::Tensor candidates = emb.size() > 2 ? at::cat({emb[1], emb[2]}) : emb[1];
    return mnrl_loss(emb[0], candidates, s_.scale);
  }

  ModelFolder meta_;
  EmbedderTrainSettings s_;
  std::unique_ptr<TrainableXlmr> model_;
  std::unique_ptr<const Tokenizer> tok_;
  std::string prefix_;
  PoolingConfig pooling_;
  bool normalize_ = false;
  std::size_t max_len_ = 512;
  std::vector<Example> examples_;
  std::string fingerprint_;
  std::string empty_;
};

// ================================================================ cross-encoder
class RerankerTask final : public TrainTask {
 public:
  RerankerTask(const ModelFolder& folder, const std::vector<TrainExample>& data,
               const RerankerTrainSettings& s, const std::function<void(const std::string&)>& note)
      : meta_(folder), s_(s) {
    SM_CHECK(s.query_max_length >= 1 && s.passage_max_length >= 1, ErrorKind::kInvalidArgument,
             "query-max-length and passage-max-length must be at least 1");
    SM_CHECK(s.loss != RerankerLoss::kGroupCrossEntropy || s.group_size >= 2,
             ErrorKind::kInvalidArgument, "group-size must be at least 2");
    const bool is_classifier = folder.kind() == ModelKind::kCrossEncoder;
    if (is_classifier) {
      SM_CHECK(folder.config().num_labels == 1, ErrorKind::kUnsupported,
               folder.dir().string() + ": the model has " +
                   std::to_string(folder.config().num_labels) +
                   " labels; a reranker has exactly one");
    } else {
      // AutoModelForSequenceClassification.from_pretrained(base, num_labels=1).
      nlohmann::json config = folder.documents().config;
      config["architectures"] = {"XLMRobertaForSequenceClassification"};
      config["id2label"] = {{"0", "LABEL_0"}};
      config["label2id"] = {{"LABEL_0", 0}};
      config.erase("num_labels");
      meta_.set_config(config);
    }
    Base b = load_base(folder, true, false, s.train, note);
    model_ = std::move(b.model);
    tok_ = std::make_unique<const Tokenizer>(std::move(b.tokenizer));
    // A classifier keeps its prefix; an encoder becomes XLMRobertaForSequenceClassification's
    // "roberta." (from scratch too).
    prefix_ = is_classifier && folder.weights_file() ? b.prefix : "roberta.";
    limit_ = std::min<std::size_t>(s.query_max_length + s.passage_max_length,
                                   static_cast<std::size_t>(model_->config().max_tokens()));
    SM_CHECK(limit_ >= 4, ErrorKind::kInvalidArgument,
             "query-max-length + passage-max-length must be at least 4");
    fingerprint_ = data_fingerprint(data, b.weights_id);
    auto text_id = [&](const TrainText& t) {
      texts_.push_back(tok_->encode_pieces(t.text));
      return texts_.size() - 1;
    };
    for (const TrainExample& e : data) {
      const std::size_t q = text_id(e.query);
      if (e.label) {
        SM_CHECK(s.loss == RerankerLoss::kBinaryCrossEntropy, ErrorKind::kInvalidArgument,
                 e.where +
                     ": a labelled pair (query, passage, label) cannot train group "
                     "cross-entropy, which needs a positive and negatives per query; use --loss "
                     "bce");
        pairs_.push_back({q, text_id(e.positives[0]), *e.label});
        continue;
      }
      if (s.loss == RerankerLoss::kBinaryCrossEntropy) {
        for (const TrainText& t : e.positives) pairs_.push_back({q, text_id(t), 1.0});
        for (const TrainText& t : e.negatives) pairs_.push_back({q, text_id(t), 0.0});
        continue;
      }
      SM_CHECK(!e.negatives.empty(), ErrorKind::kInvalidArgument,
               e.where +
                   ": empty group: the query has no negatives, and group cross-entropy needs at "
                   "least one (mine some with `skillmatch mine-negatives`, or use --loss bce)");
      Group g{q, {}, {}};
      for (const TrainText& t : e.positives) g.pos.push_back(text_id(t));
      for (const TrainText& t : e.negatives) g.neg.push_back(text_id(t));
      groups_.push_back(std::move(g));
    }
  }

  std::size_t size() const override {
    return s_.loss == RerankerLoss::kBinaryCrossEntropy ? pairs_.size() : groups_.size();
  }
  TrainableXlmr& model() override { return *model_; }
  std::string fingerprint() const override { return fingerprint_; }

  StepResult step(const std::vector<std::size_t>& rows, std::uint64_t epoch,
                  double loss_scale) override {
    std::vector<TokenIds> ids;
    std::vector<float> labels;
    for (const std::size_t r : rows) {
      std::mt19937_64 rng = example_rng(s_.train.seed, epoch, r);
      if (s_.loss == RerankerLoss::kBinaryCrossEntropy) {
        const Pair& p = pairs_[r];
        ids.push_back(pair_ids(p.query, p.passage));
        labels.push_back(static_cast<float>(p.label));
        continue;
      }
      // FlagEmbedding: one positive at random, group_size - 1 negatives sampled without
      // replacement (from the list repeated often enough when it is shorter).
      const Group& g = groups_[r];
      ids.push_back(pair_ids(g.query, g.pos[rng() % g.pos.size()]));
      const std::size_t want = s_.group_size - 1;
      std::vector<std::size_t> pool;
      const std::size_t copies = g.neg.size() < want ? (want + g.neg.size() - 1) / g.neg.size() : 1;
      for (std::size_t c = 0; c < copies; ++c) pool.insert(pool.end(), g.neg.begin(), g.neg.end());
      for (const std::size_t k : sample_indices(pool.size(), want, rng)) {
        ids.push_back(pair_ids(g.query, pool[k]));
      }
    }
    StepResult result;
    for (const TokenIds& t : ids) result.tokens += t.size();
    const AutocastGuard autocast(s_.train.bf16);
    const at::Tensor logits = logits_of(ids, true);
    const at::Tensor loss =
        s_.loss == RerankerLoss::kBinaryCrossEntropy
            ? bce_loss(logits, at::from_blob(labels.data(),
                                             {static_cast<std::int64_t>(labels.size())}, at::kFloat)
                                   .clone())
            : group_ce_loss(logits, static_cast<std::int64_t>(s_.group_size));
    (loss * loss_scale).backward();
    result.loss = loss.item<double>();
    return result;
  }

  Matrix embed(const std::vector<std::string>&, const std::string&) const override {
    throw Error(ErrorKind::kInternal, "a cross-encoder does not embed texts");
  }

  std::vector<float> score(const std::vector<TextPair>& pairs) const override {
    std::vector<TokenIds> ids;
    ids.reserve(pairs.size());
    // Truncated as the saved model is at inference (`eval`, `rerank`), not as in training.
    const std::size_t max_length = meta_.tokenizer_max_length();
    for (const TextPair& p : pairs) {
      ids.push_back(truncate_pair(*tok_, tok_->encode_pieces(p.first),
                                  tok_->encode_pieces(p.second), PairOptions{}, max_length));
    }
    std::vector<std::size_t> order(ids.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ids[a].size() > ids[b].size(); });
    std::vector<float> out(ids.size());
    const at::NoGradGuard no_grad;
    constexpr std::size_t kBatch = 64;
    for (std::size_t b = 0; b < order.size(); b += kBatch) {
      std::vector<TokenIds> batch;
      for (std::size_t i = b; i < std::min(order.size(), b + kBatch); ++i) {
        batch.push_back(ids[order[i]]);
      }
      const at::Tensor l = logits_of(batch, false).to(at::kFloat).contiguous();
      for (std::size_t r = 0; r < batch.size(); ++r) out[order[b + r]] = l.data_ptr<float>()[r];
    }
    return out;
  }

  void write(const fs::path& out, TensorDType dtype) const override {
    std::vector<at::Tensor> keep;
    write_model_folder(out, meta_, output_tensors(*model_, prefix_, dtype, keep));
  }

 private:
  struct Group {
    std::size_t query;
    std::vector<std::size_t> pos, neg;
  };
  struct Pair {
    std::size_t query, passage;
    double label;
  };

  TokenIds assemble(TokenIds q, TokenIds p) const {
    return flagembedding_train_pair(*tok_, std::move(q), std::move(p), s_.query_max_length,
                                    s_.passage_max_length, limit_);
  }

  TokenIds pair_ids(std::size_t query, std::size_t passage) const {
    return assemble(texts_[query], texts_[passage]);
  }

  at::Tensor logits_of(const std::vector<TokenIds>& ids, bool train) const {
    std::vector<std::size_t> order(ids.size());
    std::iota(order.begin(), order.end(), 0);
    const PaddedBatch batch = pad_batch(ids, order, model_->config().pad_token_id);
    return model_->classify(model_->encode(batch, train), train);
  }

  ModelFolder meta_;
  RerankerTrainSettings s_;
  std::unique_ptr<TrainableXlmr> model_;
  std::unique_ptr<const Tokenizer> tok_;
  std::string prefix_;
  std::size_t limit_ = 160;
  std::vector<TokenIds> texts_;  // content ids of every text
  std::vector<Group> groups_;
  std::vector<Pair> pairs_;
  std::string fingerprint_;
};

}  // namespace

std::mt19937_64 example_rng(std::uint64_t seed, std::uint64_t epoch, std::size_t example) {
  std::uint64_t h = kFnvOffset;
  for (const std::uint64_t v : {seed, epoch, static_cast<std::uint64_t>(example)}) {
    fnv1a_mix(h, &v, sizeof v);
  }
  return std::mt19937_64(h);
}

AutocastGuard::AutocastGuard(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  previous_ = at::autocast::is_cpu_enabled();
  previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(true);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(previous_);
  at::autocast::set_autocast_cpu_dtype(previous_dtype_);
}

TokenIds flagembedding_train_pair(const Tokenizer& tok, TokenIds q, TokenIds p,
                                  std::size_t query_max, std::size_t passage_max,
                                  std::size_t limit) {
  if (q.size() > query_max + passage_max / 4) q.resize(query_max + passage_max / 4);
  if (p.size() > passage_max + query_max / 2) p.resize(passage_max + query_max / 2);
  const std::size_t room = std::min(query_max + passage_max, limit) - 4;  // <s> q </s></s> p </s>
  if (q.size() + p.size() > room) p.resize(q.size() < room ? room - q.size() : 0);
  if (q.size() > room) q.resize(room);
  return tok.assemble_pair(q, p);
}

at::Tensor get_rng_state() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  const std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(const at::Tensor& state) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  const std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

std::vector<std::size_t> no_duplicate_order(const std::vector<std::size_t>& order,
                                            const std::vector<std::vector<std::uint64_t>>& keys,
                                            std::size_t batch) {
  const std::size_t n = order.size();
  std::vector<std::size_t> out;
  out.reserve(n);
  std::vector<char> used(n, 0);
  std::size_t first = 0;  // the first position of `order` not yet placed
  while (out.size() < n) {
    std::unordered_set<std::uint64_t> seen;
    std::size_t taken = 0;
    for (std::size_t i = first; i < n && taken < batch; ++i) {
      if (used[i]) continue;
      const auto& k = keys[order[i]];
      if (std::any_of(k.begin(), k.end(), [&](std::uint64_t x) { return seen.count(x) != 0; })) {
        continue;
      }
      seen.insert(k.begin(), k.end());
      used[i] = 1;
      out.push_back(order[i]);
      ++taken;
    }
    for (std::size_t i = first; i < n && taken < batch; ++i) {
      if (used[i]) continue;
      used[i] = 1;
      out.push_back(order[i]);
      ++taken;
    }
    while (first < n && used[first]) ++first;
  }
  return out;
}

std::unique_ptr<TrainTask> make_embedder_task(const ModelFolder& base,
                                              const std::vector<TrainExample>& data,
                                              const EmbedderTrainSettings& settings,
                                              const std::function<void(const std::string&)>& note) {
  return std::make_unique<EmbedderTask>(base, data, settings, note);
}

std::unique_ptr<TrainTask> make_reranker_task(const ModelFolder& base,
                                              const std::vector<TrainExample>& data,
                                              const RerankerTrainSettings& settings,
                                              const std::function<void(const std::string&)>& note) {
  return std::make_unique<RerankerTask>(base, data, settings, note);
}

}  // namespace skillmatch
