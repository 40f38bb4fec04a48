// The trainer on the fixture models: the trainable encoder equals the inference one, the losses
// and gradients equal PyTorch's (tests/tools/check_train_losses.py), the cached loss equals the
// plain one, saved folders load back to the same outputs, data errors name file and line, and
// hard-negative selection keeps to its window and safeguards.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <set>

#include "model/pooling.h"
#include "model/weights.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/train/train_data.h"
#include "skillmatch/train/trainer.h"
#include "test_util.h"
#include "train/losses.h"
#include "train/tasks.h"
#include "train/xlmr_module.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::fixtures;

const std::vector<std::string> kQueries = {
    "Excel für Fortgeschrittene: Pivot-Tabellen und Makros",
    "Grundlagen der Buchhaltung und doppelte Buchführung",
    "Projektmanagement mit agilen Methoden",
    "Deutsch als Fremdsprache, Niveau B1",
};
const std::vector<std::string> kPositives = {"Tabellenkalkulationssoftware verwenden",
                                             "Buchführung", "Projekte managen", "Deutsch sprechen"};
const std::vector<std::string> kNegatives = {"Schafe scheren", "Fahrzeuge warten", "Brot backen",
                                             "Fenster putzen"};

std::vector<TrainExample> examples(bool with_negatives = true) {
  std::vector<TrainExample> out;
  for (std::size_t i = 0; i < kQueries.size(); ++i) {
    TrainExample e;
    e.query = {kQueries[i], false};
    e.positives = {{kPositives[i], false}};
    if (with_negatives) e.negatives = {{kNegatives[i], false}};
    e.where = "test line " + std::to_string(i + 1);
    out.push_back(e);
  }
  return out;
}

EmbedderTrainSettings embedder_settings(EmbedderLoss loss = EmbedderLoss::kMnrl) {
  EmbedderTrainSettings s;
  s.loss = loss;
  s.train.dropout = false;
  return s;
}

RerankerTrainSettings reranker_settings() {
  RerankerTrainSettings s;
  s.train.dropout = false;
  s.group_size = 2;
  return s;
}

double max_diff(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  double d = 0;
  for (std::size_t i = 0; i < a.data.size() && i < b.data.size(); ++i) {
    d = std::max(d, double(std::abs(a.data[i] - b.data[i])));
  }
  return d;
}

nlohmann::json to_json(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

InferenceOptions f32() {
  InferenceOptions o;
  o.dtype = DType::kFloat32;
  return o;
}

// ------------------------------------------------------------------ forward = inference

TEST(TrainForward, EmbeddingsEqualTheInferenceBiEncoder) {
  for (const std::string name : {"embedder-cls", "embedder-mean"}) {
    const ModelFolder mf = ModelFolder::read(fixtures() / name);
    const auto task = make_embedder_task(mf, examples(), embedder_settings(), nullptr);
    const BiEncoder enc = BiEncoder::load(mf, f32());
    std::vector<std::string> texts = kQueries;
    texts.insert(texts.end(), kNegatives.begin(), kNegatives.end());
    EXPECT_LT(max_diff(task->embed(texts, "query: "), enc.embed(texts, "query: ")), 1e-5) << name;
    EXPECT_LT(max_diff(task->embed(texts, ""), enc.embed(texts, "")), 1e-5) << name;
  }
}

TEST(TrainForward, LogitsEqualTheInferenceCrossEncoder) {
  const ModelFolder mf = ModelFolder::read(fixtures() / "reranker");
  const auto task = make_reranker_task(mf, examples(), reranker_settings(), nullptr);
  const CrossEncoder ce = CrossEncoder::load(mf, f32());
  std::vector<TextPair> pairs;
  for (std::size_t i = 0; i < kQueries.size(); ++i) {
    pairs.emplace_back(kQueries[i], kPositives[i]);
    pairs.emplace_back(kQueries[i], kNegatives[i]);
  }
  const std::vector<float> got = task->score(pairs), want = ce.score(pairs);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

// ------------------------------------------------------------------ losses = PyTorch

TEST(TrainLosses, LossesAndGradientsEqualPyTorch) {
  const at::NoGradGuard off;  // turned on where needed below
  nlohmann::json dump;
  {
    const ModelFolder mf = ModelFolder::read(fixtures() / "embedder-mean");
    const Tokenizer tok = mf.load_tokenizer();
    const WeightSource w = WeightSource::open(mf.dir(), "embeddings.word_embeddings.weight");
    TrainableXlmr m(mf.config(), &w, 0.02, 1, false, false);
    const SentenceTransformersConfig& st = mf.sentence_transformers();
    auto ids_of = [&](const std::vector<std::string>& texts, const std::string& prompt) {
      std::vector<TokenIds> ids;
      for (const auto& t : texts) ids.push_back(tok.encode(prompt + t, 128));
      return ids;
    };
    const auto a = ids_of(kQueries, "query: "), p = ids_of(kPositives, "passage: "),
               n = ids_of(kNegatives, "passage: ");
    const at::AutoGradMode grad(true);
    auto embed = [&](const std::vector<TokenIds>& ids) {
      std::vector<std::size_t> order(ids.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      const PaddedBatch b = pad_batch(ids, order, 1);
      return pool_embeddings(m.encode(b, false), b.mask, st.pooling, 0, st.normalize);
    };
    const at::Tensor ea = embed(a), ep = embed(p), en = embed(n);
    const at::Tensor la = ea.detach().requires_grad_(), lp = ep.detach().requires_grad_(),
                     ln = en.detach().requires_grad_();
    const at::Tensor loss = mnrl_loss(la, at::cat({lp, ln}), 20);
    loss.backward();
    mnrl_loss(ea, at::cat({ep, en}), 20).backward();
    nlohmann::json e;
    e["model"] = mf.dir().string();
    e["scale"] = 20;
    e["ids"] = {{"anchors", a}, {"positives", p}, {"negatives", n}};
    // As [rows][cols] lists for the reference.
    auto rows = [](const at::Tensor& t) {
      nlohmann::json out = nlohmann::json::array();
      for (std::int64_t r = 0; r < t.size(0); ++r) out.push_back(to_json(t[r]));
      return out;
    };
    e["embeddings"] = {{"anchors", rows(ea)}, {"positives", rows(ep)}, {"negatives", rows(en)}};
    e["loss"] = loss.item<double>();
    e["grads"] = {{"anchors", to_json(la.grad())},
                  {"positives", to_json(lp.grad())},
                  {"negatives", to_json(ln.grad())}};
    for (const TrainParam& tp : m.params()) {
      if (tp.name == "encoder.layer.0.attention.self.query.weight" ||
          tp.name == "encoder.layer.1.output.dense.weight" ||
          tp.name == "embeddings.LayerNorm.weight" ||
          tp.name == "encoder.layer.1.attention.output.LayerNorm.bias") {
        e["param_grads"][tp.name] = to_json(tp.value.grad());
      }
    }
    dump["embedder"] = e;
  }
  {
    const ModelFolder mf = ModelFolder::read(fixtures() / "reranker");
    const Tokenizer tok = mf.load_tokenizer();
    const WeightSource w = WeightSource::open(mf.dir(), "embeddings.word_embeddings.weight");
    TrainableXlmr m(mf.config(), &w, 0.02, 1, true, false);
    const std::int64_t group = 4;
    std::vector<TokenIds> ids;
    std::vector<float> labels;
    for (std::size_t q = 0; q < 2; ++q) {
      ids.push_back(tok.encode_pair(kQueries[q], kPositives[q], 160));
      labels.push_back(1);
      for (std::size_t k = 0; k + 1 < std::size_t(group); ++k) {
        ids.push_back(tok.encode_pair(kQueries[q], kNegatives[(q + k) % 4], 160));
        labels.push_back(k == 1 ? 0.25f : 0.0f);  // a soft label too
      }
    }
    const at::AutoGradMode grad(true);
    std::vector<std::size_t> order(ids.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const at::Tensor logits = m.classify(m.encode(pad_batch(ids, order, 1), false), false);
    const at::Tensor leaf = logits.detach().requires_grad_();
    const at::Tensor ce = group_ce_loss(leaf, group);
    ce.backward();
    const at::Tensor ce_grad = leaf.grad().clone();
    leaf.grad().zero_();
    const at::Tensor label_t =
        at::from_blob(labels.data(), {static_cast<std::int64_t>(labels.size())}, at::kFloat)
            .clone();
    const at::Tensor bce = bce_loss(leaf, label_t);
    bce.backward();
    group_ce_loss(logits, group).backward();
    nlohmann::json r;
    r["model"] = mf.dir().string();
    r["ids"] = ids;
    r["group_size"] = group;
    r["labels"] = labels;
    r["logits"] = to_json(logits);
    r["group_ce"] = {{"loss", ce.item<double>()}, {"grad", to_json(ce_grad)}};
    r["bce"] = {{"loss", bce.item<double>()}, {"grad", to_json(leaf.grad())}};
    for (const TrainParam& tp : m.params()) {
      if (tp.name == "classifier.dense.weight" || tp.name == "classifier.out_proj.weight" ||
          tp.name == "encoder.layer.0.intermediate.dense.weight") {
        const std::string name =
            tp.name.rfind("classifier.", 0) == 0 ? tp.name : "roberta." + tp.name;
        r["param_grads"][name] = to_json(tp.value.grad());
      }
    }
    dump["reranker"] = r;
  }
  test::TempDir dir;
  test::spit(dir / "dump.json", dump.dump());
  const std::string cmd = std::string(SKILLMATCH_PYTHON) + " " + SKILLMATCH_TEST_TOOLS +
                          "/check_train_losses.py '" + (dir / "dump.json").string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

// The gradients of every parameter after one step of `task`.
std::vector<at::Tensor> step_grads(TrainTask& task, double* loss) {
  std::vector<std::size_t> rows(task.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  *loss = task.step(rows, 0, 1.0).loss;
  std::vector<at::Tensor> g;
  for (const TrainParam& p : task.model().params()) g.push_back(p.value.grad().clone());
  return g;
}

TEST(TrainLosses, CachedMnrlEqualsMnrl) {
  const ModelFolder mf = ModelFolder::read(fixtures() / "embedder-cls");
  for (const bool dropout : {false, true}) {
    EmbedderTrainSettings plain = embedder_settings(EmbedderLoss::kMnrl);
    EmbedderTrainSettings cached = embedder_settings(EmbedderLoss::kCachedMnrl);
    plain.train.dropout = cached.train.dropout = dropout;
    // With dropout, one mini-batch per column draws the same masks as the plain loss; without,
    // any split gives the same gradients.
    cached.mini_batch = dropout ? 64 : 3;
    at::manual_seed(7);
    const auto a = make_embedder_task(mf, examples(), plain, nullptr);
    double la = 0, lb = 0;
    const auto ga = step_grads(*a, &la);
    at::manual_seed(7);
    const auto b = make_embedder_task(mf, examples(), cached, nullptr);
    const auto gb = step_grads(*b, &lb);
    EXPECT_NEAR(la, lb, 1e-6) << "dropout " << dropout;
    ASSERT_EQ(ga.size(), gb.size());
    double worst = 0;
    for (std::size_t i = 0; i < ga.size(); ++i) {
      worst = std::max(worst, (ga[i] - gb[i]).abs().max().item<double>());
    }
    EXPECT_LT(worst, 1e-5) << "dropout " << dropout;
  }
}

// ------------------------------------------------------------------ saving

TEST(TrainSave, SavedFoldersLoadBackToTheSameOutputs) {
  test::TempDir dir;
  const ModelFolder emb = ModelFolder::read(fixtures() / "embedder-mean");
  const auto task = make_embedder_task(emb, examples(), embedder_settings(), nullptr);
  double loss = 0;
  const auto grads = step_grads(*task, &loss);
  {
    const at::NoGradGuard no_grad;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      task->model().params()[i].value.sub_(grads[i] * 0.05);
    }
  }
  task->write(dir / "emb", TensorDType::kF32);
  const BiEncoder back = BiEncoder::load(dir / "emb", f32());
  EXPECT_LT(max_diff(back.embed(kQueries, "query: "), task->embed(kQueries, "query: ")), 1e-5);
  EXPECT_EQ(back.prompt("query").value_or(""), "query: ");
  EXPECT_EQ(back.prompt("passage").value_or(""), "passage: ");
  // The weights are written exactly, under their original names.
  const SafetensorsFile st = SafetensorsFile::open(dir / "emb" / "model.safetensors");
  for (const TrainParam& p : task->model().params()) {
    const TensorInfo* info = st.find(p.name);
    ASSERT_NE(info, nullptr) << p.name;
    EXPECT_EQ(std::memcmp(st.data(*info), p.value.data_ptr(), info->nbytes), 0) << p.name;
  }
  EXPECT_NE(st.find("pooler.dense.weight"), nullptr);
  // bfloat16 weights load too, with outputs close to float32's.
  task->write(dir / "emb-bf16", TensorDType::kBF16);
  EXPECT_LT(max_diff(BiEncoder::load(dir / "emb-bf16", f32()).embed(kQueries, "query: "),
                     back.embed(kQueries, "query: ")),
            0.05);

  // A reranker trained from a bi-encoder gets a classification head and the roberta. prefix.
  const auto rr = make_reranker_task(emb, examples(), reranker_settings(), nullptr);
  rr->write(dir / "rr", TensorDType::kF32);
  const ModelFolder rf = ModelFolder::read(dir / "rr");
  EXPECT_EQ(rf.kind(), ModelKind::kCrossEncoder);
  EXPECT_EQ(rf.documents().config["architectures"][0], "XLMRobertaForSequenceClassification");
  EXPECT_FALSE(fs::exists(dir / "rr" / "modules.json"));
  const SafetensorsFile rst = SafetensorsFile::open(dir / "rr" / "model.safetensors");
  EXPECT_NE(rst.find("roberta.encoder.layer.0.attention.self.query.weight"), nullptr);
  EXPECT_NE(rst.find("classifier.out_proj.weight"), nullptr);
  EXPECT_EQ(rst.find("roberta.pooler.dense.weight"), nullptr);
  const CrossEncoder ce = CrossEncoder::load(dir / "rr", f32());
  const std::vector<TextPair> pairs = {{kQueries[0], kPositives[0]}, {kQueries[1], kNegatives[1]}};
  const std::vector<float> want = rr->score(pairs), got = ce.score(pairs);
  for (std::size_t i = 0; i < pairs.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5);
}

TEST(TrainSave, AFolderWithoutWeightsStartsFromTransformersInitialisation) {
  test::TempDir dir;
  const fs::path base = test::copy_fixture("embedder-cls", dir / "base");
  fs::remove(base / "model.safetensors");
  const ModelFolder mf = ModelFolder::read(base);
  EmbedderTrainSettings s = embedder_settings();
  s.train.seed = 5;
  const auto a = make_embedder_task(mf, examples(), s, nullptr);
  const auto b = make_embedder_task(mf, examples(), s, nullptr);
  for (const TrainParam& p : a->model().params()) {
    const at::Tensor& v = p.value;
    if (p.name.find("LayerNorm.weight") != std::string::npos) {
      EXPECT_TRUE(v.eq(1).all().item<bool>()) << p.name;
    } else if (p.name.find(".bias") != std::string::npos) {
      EXPECT_TRUE(v.eq(0).all().item<bool>()) << p.name;
    } else {
      EXPECT_NEAR(v.std().item<double>(), 0.02, 0.004) << p.name;
    }
    EXPECT_EQ(p.decay, p.name.find(".bias") == std::string::npos &&
                           p.name.find("LayerNorm") == std::string::npos)
        << p.name;
  }
  // The padding rows start at zero; the same seed gives the same weights.
  EXPECT_TRUE(a->model().params()[0].value[1].eq(0).all().item<bool>());
  EXPECT_TRUE(a->model().params()[1].value[1].eq(0).all().item<bool>());
  for (std::size_t i = 0; i < a->model().params().size(); ++i) {
    EXPECT_TRUE(a->model().params()[i].value.equal(b->model().params()[i].value));
  }
  a->write(dir / "out", TensorDType::kF32);
  EXPECT_EQ(BiEncoder::load(dir / "out", f32()).embed(kQueries).rows, kQueries.size());
}

// ------------------------------------------------------------------ data

// NO_DUPLICATES batches: no key twice in a batch while the data allows it, every example once,
// the shuffled order kept otherwise; data that cannot avoid a repeat still fills its batches.
TEST(TrainBatches, NoDuplicateOrderKeepsRepeatsApart) {
  // Examples 0-5 share key 7 (the same positive), the others have keys of their own.
  std::vector<std::vector<std::uint64_t>> keys(12);
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = {100 + i, i < 6 ? 7u : 200 + i};
  std::vector<std::size_t> order(12);
  std::iota(order.begin(), order.end(), 0);
  const std::vector<std::size_t> out = no_duplicate_order(order, keys, 4);
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(std::set<std::size_t>(out.begin(), out.end()).size(), 12u);
  // The first batches take one of 0-5 each and the unique ones in order; the last batch is left
  // with the rest of 0-5 and is filled with them (nothing else is left).
  EXPECT_EQ(out, (std::vector<std::size_t>{0, 6, 7, 8, 1, 9, 10, 11, 2, 3, 4, 5}));
  // With room for all of them, no batch holds two.
  const std::vector<std::size_t> wide = no_duplicate_order(order, keys, 2);
  for (std::size_t b = 0; b < 6; ++b) {
    EXPECT_FALSE(wide[2 * b] < 6 && wide[2 * b + 1] < 6) << "batch " << b;
  }
  // When every example shares a key, the batches are filled in order anyway.
  std::vector<std::vector<std::uint64_t>> same(5, std::vector<std::uint64_t>{1});
  std::vector<std::size_t> five(5);
  std::iota(five.begin(), five.end(), 0);
  EXPECT_EQ(no_duplicate_order(five, same, 2), five);
}

TEST(TrainData, ReadsEveryFormat) {
  test::TempDir dir;
  test::spit(dir / "d.jsonl",
             "{\"anchor\": \"a\", \"positive\": \"p\", \"negative\": \"n\"}\n"
             "\n"
             "{\"query\": \"b\", \"positive\": [\"p1\", \"p2\"], \"negative_1\": \"n1\", "
             "\"negative_2\": \"n2\"}\n"
             "{\"query\": \"c\", \"pos\": [\"p\"], \"neg\": [], \"pos_uris\": [], \"id\": 3}\n"
             "{\"query\": \"d\", \"passage\": \"x\", \"label\": 0.5}\n"
             "{\"query\": \"e\", \"positive\": \"http://x/skill/1\"}\n");
  const auto data = load_train_data(dir / "d.jsonl", [](const std::string& uri) {
    return uri == "http://x/skill/1" ? std::optional<std::string>("passage: Eins: desc")
                                     : std::nullopt;
  });
  ASSERT_EQ(data.size(), 5u);
  EXPECT_EQ(data[0].negatives.size(), 1u);
  EXPECT_EQ(data[1].positives.size(), 2u);
  EXPECT_EQ(data[1].negatives.size(), 2u);
  EXPECT_EQ(data[1].where, (dir / "d.jsonl").string() + " line 3");
  EXPECT_TRUE(data[2].negatives.empty());
  EXPECT_EQ(*data[3].label, 0.5);
  EXPECT_EQ(data[4].positives[0].text, "passage: Eins: desc");
  EXPECT_TRUE(data[4].positives[0].rendered);
  EXPECT_FALSE(data[0].positives[0].rendered);
}

TEST(TrainData, MistakesNameFileAndLine) {
  test::TempDir dir;
  const auto check = [&](const std::string& line, const std::string& what) {
    test::spit(dir / "bad.jsonl", "{\"anchor\": \"ok\", \"positive\": \"p\"}\n" + line + "\n");
    test::expect_error([&] { load_train_data(dir / "bad.jsonl", nullptr); },
                       ErrorKind::kInvalidArgument, {"bad.jsonl line 2", what});
  };
  check("{\"anchor\": \"a\", \"positive\": ", "invalid JSON");
  check("{\"anchor\": \"a\"}", "no positive");
  check("{\"positive\": \"a\"}", "no query");
  check("{\"anchor\": \"  \", \"positive\": \"p\"}", "\"anchor\" is empty");
  check("{\"anchor\": \"a\", \"positive\": 3}", "must be a string");
  check("{\"query\": \"a\", \"pos\": []}", "the list of positives is empty");
  check("{\"query\": \"a\", \"passage\": \"p\", \"label\": 2}", "from 0 to 1");
  check("{\"anchor\": \"a\", \"positive\": \"http://data.europa.eu/esco/skill/none\"}",
        "unresolvable positive");
  test::spit(dir / "empty.jsonl", "\n");
  test::expect_error([&] { load_train_data(dir / "empty.jsonl", nullptr); },
                     ErrorKind::kInvalidArgument, {"no training example"});
  // An empty group cannot train group cross-entropy; a labelled pair cannot train the
  // bi-encoder.
  auto data = examples();
  data[2].negatives.clear();
  test::expect_error(
      [&] {
        make_reranker_task(ModelFolder::read(fixtures() / "reranker"), data, reranker_settings(),
                           nullptr);
      },
      ErrorKind::kInvalidArgument, {"test line 3", "empty group"});
  data[2].label = 1.0;
  test::expect_error(
      [&] {
        make_embedder_task(ModelFolder::read(fixtures() / "embedder-cls"), data,
                           embedder_settings(), nullptr);
      },
      ErrorKind::kInvalidArgument, {"test line 3", "labelled pair"});
  EXPECT_TRUE(looks_like_uri("http://data.europa.eu/esco/skill/1"));
  EXPECT_FALSE(looks_like_uri("Buchführung: http://x"));
  EXPECT_FALSE(looks_like_uri("GRETA-1-1"));
}

// ------------------------------------------------------------------ mining

TEST(Mining, KeepsToTheWindowAndTheSafeguards) {
  std::vector<RankedCandidate> ranked;
  for (std::size_t i = 0; i < 50; ++i) ranked.push_back({i, 0.9 - 0.01 * double(i)});
  MiningSettings s;
  s.range_min = 5;
  s.range_max = 30;
  s.negatives = 10;
  s.random_sampling = false;
  MiningStats stats;
  const auto is_pos = [](std::size_t id) { return id == 6 || id == 40; };
  auto top = select_negatives(ranked, is_pos, std::nullopt, s, 0, 0, stats);
  ASSERT_EQ(top.size(), 10u);
  EXPECT_EQ(top[0].id, 5u);
  EXPECT_EQ(top[1].id, 7u);  // the positive at rank 6 is skipped
  EXPECT_EQ(stats.positives_skipped, 1u);
  // Relative margin: nothing above 95% of the positive's 0.6.
  s.relative_margin = 0.05;
  stats = {};
  top = select_negatives(ranked, is_pos, 0.6, s, 0, 0, stats);
  for (const auto& c : top) EXPECT_LE(c.score, 0.6 * 0.95 + 1e-12);
  EXPECT_GT(stats.margin_skipped, 0u);
  s.relative_margin.reset();
  s.max_score = 0.7;
  stats = {};
  top = select_negatives(ranked, is_pos, std::nullopt, s, 0, 0, stats);
  for (const auto& c : top) EXPECT_LE(c.score, 0.7);
  s.max_score.reset();
  // Random sampling: inside the window, best-ranked first, the same for the same seed and query.
  s.random_sampling = true;
  const auto r1 = select_negatives(ranked, is_pos, std::nullopt, s, 3, 0, stats);
  const auto r2 = select_negatives(ranked, is_pos, std::nullopt, s, 3, 0, stats);
  const auto r3 = select_negatives(ranked, is_pos, std::nullopt, s, 4, 0, stats);
  ASSERT_EQ(r1.size(), 10u);
  bool differs = false;
  for (std::size_t i = 0; i < r1.size(); ++i) {
    EXPECT_EQ(r1[i].id, r2[i].id);
    EXPECT_GE(r1[i].id, 5u);
    EXPECT_LT(r1[i].id, 30u);
    EXPECT_NE(r1[i].id, 6u);
    if (i) {
      EXPECT_LT(r1[i - 1].id, r1[i].id);
    }
    differs = differs || r1[i].id != r3[i].id;
  }
  EXPECT_TRUE(differs);
  // A short window is filled with random ids that are not positives.
  s.range_max = 8;
  stats = {};
  const auto filled = select_negatives(ranked, is_pos, std::nullopt, s, 5, 50, stats);
  ASSERT_EQ(filled.size(), 10u);
  EXPECT_EQ(stats.random_filled, 8u);
  for (const auto& c : filled) EXPECT_FALSE(is_pos(c.id));
}

}  // namespace
}  // namespace skillmatch
