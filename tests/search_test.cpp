// Vector files, indexing, retrieval and reranking on a small taxonomy with the fixture models.
#include <gtest/gtest.h>

#include <cstdlib>

#include "skillmatch/catalog/taxonomy_import.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/index/ann_index.h"
#include "skillmatch/index/dense_index.h"
#include "skillmatch/index/indexer.h"
#include "skillmatch/search/matcher.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;

std::vector<SkillRecord> small_taxonomy() {
  const std::vector<std::pair<std::string, std::string>> skills = {
      {"Buchhaltung führen", "Geschäftsvorfälle in Büchern erfassen und Abschlüsse erstellen"},
      {"Tabellenkalkulationssoftware verwenden", "Mit Excel Tabellen, Formeln und Diagramme"},
      {"Python programmieren", "Programme in der Sprache Python schreiben"},
      {"im Team arbeiten", "Mit Kolleginnen und Kollegen zusammenarbeiten"},
      {"Kunden beraten", "Kundinnen und Kunden zu Produkten beraten"},
      {"Gemüse anbauen", "Pflanzen im Garten ziehen und ernten"},
      {"Schweißen", "Metallteile durch Schweißen verbinden"},
      {"Englisch sprechen", "Sich mündlich auf Englisch verständigen"},
  };
  std::vector<SkillRecord> out;
  for (std::size_t i = 0; i < skills.size(); ++i) {
    SkillRecord r;
    r.uri = "s" + std::to_string(i);
    r.label = skills[i].first;
    r.description = skills[i].second;
    r.skill_type = i % 2 ? "knowledge" : "skill/competence";
    out.push_back(r);
  }
  return out;
}

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<Workspace>(Workspace::open(dir_ / "ws", true));
    ws_->import_taxonomy({"mini", "Mini", "1", "de", "test", "", ""}, small_taxonomy());
    InferenceOptions o;
    o.dtype = DType::kFloat32;
    enc_ = std::make_unique<BiEncoder>(BiEncoder::load(test::fixtures() / "embedder-mean", o));
    ce_ = std::make_unique<CrossEncoder>(CrossEncoder::load(test::fixtures() / "reranker", o));
    id_ = vector_identity(*enc_, "embedder-mean", test::fixtures() / "embedder-mean",
                          kDefaultPassageTemplate);
  }
  VectorStore index() {
    index_skills(*ws_, *enc_, id_);
    return VectorStore::read(vector_file(*ws_, id_), id_);
  }
  // A matcher over every skill of the workspace with the vectors of `vs`.
  Matcher matcher(const VectorStore& vs, bool rerank) const {
    const auto skills = ws_->snapshot();
    return Matcher(skills, *enc_,
                   std::make_shared<DenseIndex>(DenseIndex::from_store(vs, ws_->skill_ids())),
                   rerank ? std::optional<CrossEncoder>(*ce_) : std::nullopt);
  }
  test::TempDir dir_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<BiEncoder> enc_;
  std::unique_ptr<CrossEncoder> ce_;
  VectorIdentity id_;
};

TEST_F(SearchTest, IndexStoresThePassageEmbeddings) {
  const IndexStats s = index_skills(*ws_, *enc_, id_);
  EXPECT_EQ(s.skills, 8u);
  EXPECT_EQ(s.embedded, 8u);
  const VectorStore vs = VectorStore::read(vector_file(*ws_, id_), id_);
  const Skill sk = *ws_->find("mini", "s1");
  const Matrix expected = enc_->embed({format_skill(kDefaultPassageTemplate, sk)});
  const float* v = vs.vector(sk.id);
  ASSERT_NE(v, nullptr);
  // Embedded in a batch of 8 rather than alone: equal up to summation order.
  for (std::size_t k = 0; k < expected.cols; ++k) EXPECT_NEAR(v[k], expected.row(0)[k], 1e-6);
  EXPECT_EQ(format_skill(kDefaultPassageTemplate, sk),
            "passage: Tabellenkalkulationssoftware verwenden: Mit Excel Tabellen, Formeln und "
            "Diagramme");
}

TEST_F(SearchTest, ReindexTouchesOnlyChangedSkillsAndResumesAfterAKill) {
  index_skills(*ws_, *enc_, id_);
  EXPECT_EQ(index_skills(*ws_, *enc_, id_).embedded, 0u);
  auto recs = small_taxonomy();
  recs[3].description = "Gemeinsam Aufgaben lösen";
  ws_->import_taxonomy({"mini", "Mini", "1", "de", "test", "", ""}, recs);
  const IndexStats s = index_skills(*ws_, *enc_, id_);
  EXPECT_EQ(s.embedded, 1u);
  EXPECT_EQ(s.reused, 7u);

  // A writer killed in the middle of a record: the file ends with half a record.
  const fs::path file = vector_file(*ws_, id_);
  const auto size = fs::file_size(file);
  const std::string bytes = test::slurp(file);
  const std::size_t record = 16 + 4 * enc_->dimension();
  test::spit(file, bytes.substr(0, size - record - record / 2));  // lose 1.5 records
  // A reader sees the whole records and leaves the file alone; the next writer drops the rest.
  EXPECT_EQ(VectorStore::read(file, id_).size(), 7u);  // the changed skill's record is lost
  EXPECT_EQ(fs::file_size(file), size - record - record / 2);
  VectorStore::open_for_append(file, id_);
  EXPECT_EQ(fs::file_size(file), size - 2 * record);
  const IndexStats resumed = index_skills(*ws_, *enc_, id_);
  EXPECT_GE(resumed.embedded, 1u);
  EXPECT_LE(resumed.embedded, 2u);
  EXPECT_EQ(index_skills(*ws_, *enc_, id_).embedded, 0u);
}

TEST_F(SearchTest, VectorsOfAnotherModelAreRefusedNamingBoth) {
  index_skills(*ws_, *enc_, id_);
  VectorIdentity other = id_;
  other.model = "embedder-cls";
  other.fingerprint = model_fingerprint(test::fixtures() / "embedder-cls");
  EXPECT_NE(other.fingerprint, id_.fingerprint);
  test::expect_error([&] { VectorStore::read(vector_file(*ws_, id_), other); },
                     ErrorKind::kInvalidArgument, {"embedder-mean", "embedder-cls"});
  test::spit(dir_ / "junk.bin", "not vectors");
  test::expect_error([&] { VectorStore::read(dir_ / "junk.bin", id_); }, ErrorKind::kCorrupt,
                     {"junk.bin"});
  test::expect_error([&] { VectorStore::read(dir_ / "missing.bin", id_); }, ErrorKind::kNotFound,
                     {"missing.bin"});
  // A writer sets a damaged file aside and starts anew, saying where it went.
  const VectorStore fresh = VectorStore::open_for_append(dir_ / "junk.bin", id_);
  EXPECT_EQ(fresh.size(), 0u);
  ASSERT_FALSE(fresh.set_aside().empty());
  EXPECT_EQ(test::slurp(fresh.set_aside()), "not vectors");
  // A store read without the writer's lock cannot append.
  VectorStore ro = VectorStore::read(vector_file(*ws_, id_), id_);
  test::expect_error([&] { ro.append({1}, {1}, Matrix(1, id_.dimension)); },
                     ErrorKind::kInvalidArgument, {"reading only"});
}

TEST_F(SearchTest, IncompleteIndexIsRefusedByTheMatcher) {
  VectorStore vs = index();
  // Vectors of the first four skills only: matching among those works, the others are missing.
  const auto ids = ws_->skill_ids();
  const std::vector<std::int64_t> half(ids.begin(), ids.begin() + 4);
  const Matcher m(ws_->snapshot(), *enc_,
                  std::make_shared<DenseIndex>(DenseIndex::from_store(vs, half)), std::nullopt);
  SearchOptions o;
  o.mode = RetrievalMode::kDense;
  test::expect_error([&] { m.match(*ws_, "Excel", o); }, ErrorKind::kInvalidArgument,
                     {"4 of the 8 skills", "no vector", "skillmatch index"});
  o.filter.skill_types = {"skill/competence"};  // s0, s2: both have vectors... and s4, s6 not
  test::expect_error([&] { m.match(*ws_, "Excel", o); }, ErrorKind::kInvalidArgument,
                     {"2 of the 4 skills"});
}

TEST_F(SearchTest, DenseRetrievalIsExactCosine) {
  const VectorStore vs = index();
  const Matcher m = matcher(vs, false);
  SearchOptions o;
  o.mode = RetrievalMode::kDense;
  o.top = 8;
  const std::string text = "Einführung in Excel und Tabellen";
  const auto res = m.match(*ws_, text, o);
  ASSERT_EQ(res.size(), 8u);
  const Matrix q = enc_->embed({text}, "query: ");
  for (const auto& r : res) {
    const float* v = vs.vector(r.skill.id);
    double dot = 0;
    for (std::size_t k = 0; k < q.cols; ++k) dot += double(v[k]) * q.row(0)[k];
    EXPECT_NEAR(*r.cosine, dot, 1e-5);
    EXPECT_FALSE(r.bm25.has_value());
  }
  for (std::size_t i = 1; i < res.size(); ++i) EXPECT_GE(*res[i - 1].cosine, *res[i].cosine);
}

TEST_F(SearchTest, RerankOrderEqualsCrossEncoderOrder) {
  const VectorStore vs = index();
  const Matcher m = matcher(vs, true);
  SearchOptions o;
  o.top = 8;
  o.candidates = 8;
  const std::string text = "Buchhaltung und Excel für das Büro";
  const auto res = m.match(*ws_, text, o);
  ASSERT_EQ(res.size(), 8u);
  std::vector<TextPair> pairs;
  for (const auto& r : res) pairs.push_back({text, r.skill.record.label});
  const auto logits = ce_->score(pairs);
  for (std::size_t i = 0; i < res.size(); ++i) {
    EXPECT_NEAR(*res[i].rerank_logit, logits[i], 1e-5);
    EXPECT_NEAR(res[i].score, sigmoid(logits[i]), 1e-6);
    if (i) {
      EXPECT_GE(*res[i - 1].rerank_logit, *res[i].rerank_logit);
    }
    EXPECT_EQ(res[i].rank, i + 1);
  }
}

TEST_F(SearchTest, Bm25HybridAndFusion) {
  const VectorStore vs = index();
  const Matcher m = matcher(vs, false);
  SearchOptions o;
  o.mode = RetrievalMode::kBm25;
  auto res = m.match(*ws_, "Python programmieren lernen", o);
  ASSERT_FALSE(res.empty());
  EXPECT_EQ(res[0].skill.record.uri, "s2");
  EXPECT_FALSE(res[0].cosine.has_value());

  o.mode = RetrievalMode::kHybrid;
  o.fusion = Fusion::kRrf;
  res = m.match(*ws_, "Python programmieren lernen", o);
  ASSERT_FALSE(res.empty());
  for (const auto& r : res) {
    EXPECT_TRUE(r.fused.has_value());
    EXPECT_LE(*r.fused, 2.0 / 61 + 1e-12);  // at best rank 1 in both lists
  }
  // The BM25 winner, found by both retrievers, leads the fused list.
  EXPECT_EQ(res[0].skill.record.uri, "s2");

  o.fusion = Fusion::kWeighted;
  o.dense_weight = 0.0;  // BM25 alone decides
  res = m.match(*ws_, "Python programmieren lernen", o);
  EXPECT_EQ(res[0].skill.record.uri, "s2");
  EXPECT_DOUBLE_EQ(*res[0].fused, 1.0);
}

TEST_F(SearchTest, CutOffsAndFilters) {
  const VectorStore vs = index();
  const Matcher m = matcher(vs, true);
  SearchOptions o;
  o.top = 8;
  const auto all = m.match(*ws_, "Kurs für Kundenberatung", o);
  ASSERT_EQ(all.size(), 8u);
  o.threshold = all[3].score;
  auto res = m.match(*ws_, "Kurs für Kundenberatung", o);
  for (const auto& r : res) EXPECT_GE(r.score, all[3].score);
  EXPECT_GE(res.size(), 4u);
  o.threshold.reset();
  o.top = 3;
  EXPECT_EQ(m.match(*ws_, "Kurs für Kundenberatung", o).size(), 3u);
  o.top = 8;
  o.cut_at_largest_gap = true;
  res = m.match(*ws_, "Kurs für Kundenberatung", o);
  ASSERT_FALSE(res.empty());
  double widest = 0;
  std::size_t cut = 0;
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    if (all[i].score - all[i + 1].score > widest)
      widest = all[i].score - all[i + 1].score, cut = i + 1;
  }
  EXPECT_EQ(res.size(), cut);
  o.cut_at_largest_gap = false;
  o.filter.skill_types = {"knowledge"};
  res = m.match(*ws_, "Kurs für Kundenberatung", o);
  EXPECT_EQ(res.size(), 4u);
  for (const auto& r : res) EXPECT_EQ(r.skill.record.skill_type, "knowledge");
  test::expect_error([&] { m.match(*ws_, "bad \xFF", o); }, ErrorKind::kInvalidArgument,
                     {"invalid UTF-8"});
}

// The approximate index: on a small taxonomy HNSW finds the exact neighbours; it is saved and
// loaded, refused when stale, and damaged files are reported as such.
TEST_F(SearchTest, ApproximateIndexMatchesExactAndIsRefusedWhenStale) {
  const VectorStore vs = index();
  auto dense = std::make_shared<DenseIndex>(DenseIndex::from_store(vs, ws_->skill_ids()));
  const Matcher m(ws_->snapshot(), *enc_, dense, std::nullopt);
  SearchOptions o;
  o.mode = RetrievalMode::kDense;
  o.top = 8;
  o.ann = true;
  test::expect_error([&] { m.match(*ws_, "Excel", o); }, ErrorKind::kInvalidArgument,
                     {"skillmatch index --ann"});
  const fs::path file = ann_file(*ws_, id_);
  EXPECT_EQ(file.extension(), ".hnsw");
  dense->build_ann().save(file);
  const auto ann = std::make_shared<const AnnIndex>(AnnIndex::load(file));
  EXPECT_EQ(ann->size(), 8u);
  dense->attach_ann(ann);
  for (const char* text : {"Einführung in Excel und Tabellen", "Teamarbeit", "Schweißkurs"}) {
    o.ann = false;
    const auto exact = m.match(*ws_, text, o);
    o.ann = true;
    const auto approx = m.match(*ws_, text, o);
    ASSERT_EQ(approx.size(), exact.size());
    for (std::size_t i = 0; i < exact.size(); ++i) {
      EXPECT_EQ(approx[i].skill.id, exact[i].skill.id) << text << " rank " << i;
      EXPECT_NEAR(*approx[i].cosine, *exact[i].cosine, 1e-5);
    }
  }
  // A filter is honoured (half the skills: the graph search with a selector).
  o.filter.skill_types = {"knowledge"};
  const auto filtered = m.match(*ws_, "Kurs für Kundenberatung", o);
  EXPECT_EQ(filtered.size(), 4u);
  for (const auto& r : filtered) EXPECT_EQ(r.skill.record.skill_type, "knowledge");
  // The batched search gives each query what a single search gives.
  Matrix queries = enc_->embed({"Excel", "Teamarbeit", "Schweißkurs"}, "query: ");
  const auto batch = dense->search(queries, 5);
  for (std::size_t q = 0; q < 3; ++q) {
    const auto one = exact_top_k(dense->vectors(), queries.row(q), 5);
    ASSERT_EQ(batch[q].size(), one.size());
    for (std::size_t i = 0; i < one.size(); ++i) EXPECT_EQ(batch[q][i].row, one[i].second);
  }

  // Another skill text changes the vectors: the index is stale.
  auto recs = small_taxonomy();
  recs[2].description = "Programme in Python und Rust schreiben";
  ws_->import_taxonomy({"mini", "Mini", "1", "de", "test", "", ""}, recs);
  const VectorStore vs2 = index();
  DenseIndex dense2 = DenseIndex::from_store(vs2, ws_->skill_ids());
  test::expect_error([&] { dense2.attach_ann(ann); }, ErrorKind::kInvalidArgument,
                     {"other skills or vectors", "index --ann"});

  // Damaged files.
  test::spit(dir_ / "not.hnsw", "something else entirely");
  test::expect_error([&] { AnnIndex::load(dir_ / "not.hnsw"); }, ErrorKind::kCorrupt,
                     {"not a skillmatch approximate index"});
  const std::string bytes = test::slurp(file);
  test::spit(dir_ / "cut.hnsw", bytes.substr(0, bytes.size() / 2));
  test::expect_error([&] { AnnIndex::load(dir_ / "cut.hnsw"); }, ErrorKind::kCorrupt, {"cut.hnsw"});
  test::expect_error([&] { AnnIndex::load(dir_ / "missing.hnsw"); }, ErrorKind::kNotFound,
                     {"missing.hnsw"});
}

TEST(ExactSearch, TopKWithTiesAndAllowedRows) {
  Matrix v(4, 2);
  v.data = {1, 0, 0, 1, 1, 0, 0.5f, 0.5f};
  const float q[2] = {1, 0};
  const auto all = exact_top_k(v, q, 3);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].second, 0u);  // ties (rows 0 and 2) by row
  EXPECT_EQ(all[1].second, 2u);
  EXPECT_EQ(all[2].second, 3u);
  const std::vector<char> allowed = {0, 1, 1, 0};
  const auto some = exact_top_k(v, q, 10, &allowed);
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0].second, 2u);
  EXPECT_EQ(some[1].second, 1u);
}

TEST_F(SearchTest, Bm25OnlyWithoutModels) {
  const Matcher m(ws_->snapshot(), std::nullopt, nullptr, std::nullopt);
  SearchOptions o;
  o.mode = RetrievalMode::kBm25;
  const auto res = m.match(*ws_, "Schweißen von Metall", o);
  ASSERT_FALSE(res.empty());
  EXPECT_EQ(res[0].skill.record.label, "Schweißen");
  o.mode = RetrievalMode::kDense;
  test::expect_error([&] { m.match(*ws_, "x", o); }, ErrorKind::kInvalidArgument, {"--embedder"});
  const auto batch = m.match_batch(*ws_, {"Gemüse im Garten", "Englisch lernen"}, [] {
    SearchOptions b;
    b.mode = RetrievalMode::kBm25;
    return b;
  }());
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0][0].skill.record.uri, "s5");
  EXPECT_EQ(batch[1][0].skill.record.uri, "s7");
}

// Without an embedder a result's supporting span is the one holding most of its label's words,
// analysed as BM25 analyses its taxonomy: in English for an English one ("Managing budgets"
// holds both words of "manage budget"; German analysis found only "budget" there), in German
// for a German one.
TEST(SupportWords, AnalysedInTheLanguageOfTheSkillsTaxonomy) {
  test::TempDir dir;
  Workspace ws = Workspace::open(dir / "ws", true);
  SkillRecord en;
  en.uri = "e1";
  en.label = "manage budget";
  ws.import_taxonomy({"en-t", "En", "1", "en", "test", "", ""}, {en});
  SkillRecord de;
  de.uri = "d1";
  de.label = "Buchhaltung führen";
  ws.import_taxonomy({"de-t", "De", "1", "de", "test", "", ""}, {de});
  const auto skills = ws.snapshot();
  EXPECT_EQ(skills->find(ws.find("en-t", "e1")->id)->language, "en");
  const Matcher m(skills, std::nullopt, nullptr, std::nullopt);
  SearchOptions o;
  o.mode = RetrievalMode::kBm25;
  o.explain = true;
  const std::string text =
      "Cooking for beginners. Managing budgets in small firms. Die Buchhaltungen führen.";
  const auto res = m.match(ws, text, o);
  ASSERT_EQ(res.size(), 2u);
  for (const MatchResult& r : res) {
    ASSERT_TRUE(r.support.has_value()) << r.skill.record.uri;
    EXPECT_EQ(r.support->method, "words");
    EXPECT_DOUBLE_EQ(r.support->score, 1.0) << r.skill.record.uri;
    EXPECT_EQ(r.support->text, r.skill.record.uri == "e1" ? "Managing budgets in small firms"
                                                          : "Die Buchhaltungen führen");
  }
}

TEST(ModelHub, FindsFoldersAndHubCacheSnapshots) {
  test::TempDir dir;
  const fs::path repo = dir / "hub" / "models--isy-thl--e5-tuned";
  fs::create_directories(repo / "snapshots" / "abc123");
  fs::create_directories(repo / "refs");
  test::spit(repo / "refs" / "main", "abc123\n");
  ::setenv("HF_HUB_CACHE", (dir / "hub").c_str(), 1);
  EXPECT_EQ(resolve_model("isy-thl/e5-tuned"), repo / "snapshots" / "abc123");
  EXPECT_EQ(resolve_model(test::fixtures().string()), test::fixtures());
  test::expect_error(
      [&] { resolve_model("isy-thl/missing"); }, ErrorKind::kNotFound,
      {"isy-thl/missing", "models--isy-thl--missing", "skillmatch pull isy-thl/missing"});
  test::expect_error([&] { resolve_model("/no/such/folder"); }, ErrorKind::kNotFound,
                     {"/no/such/folder"});
  ::unsetenv("HF_HUB_CACHE");
}

}  // namespace
}  // namespace skillmatch
