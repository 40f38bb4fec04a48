// Evaluation: the metrics on hand-computed rankings, the dataset formats and their errors, and
// evaluate() + the reports on a small workspace.
#include <gtest/gtest.h>

#include <cmath>

#include "skillmatch/eval/dataset.h"
#include "skillmatch/eval/evaluator.h"
#include "skillmatch/eval/metrics.h"
#include "skillmatch/search/matcher.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;

double metric(const MetricValues& m, const std::string& name) {
  for (const auto& [n, v] : m) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

std::unordered_set<std::int64_t> set(std::initializer_list<std::int64_t> l) {
  return {l};
}

// Ranking 1..5, relevant {2, 5}: hits at ranks 2 and 5.
TEST(EvalMetrics, TwoRelevantItemsComputedByHand) {
  const MetricValues m = query_metrics({1, 2, 3, 4, 5}, set({2, 5}), MetricCutoffs{});
  EXPECT_EQ(metric(m, "accuracy@1"), 0.0);
  EXPECT_EQ(metric(m, "accuracy@3"), 1.0);
  EXPECT_EQ(metric(m, "accuracy@10"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "precision@1"), 0.0);
  EXPECT_DOUBLE_EQ(metric(m, "precision@3"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(metric(m, "precision@5"), 2.0 / 5);
  EXPECT_DOUBLE_EQ(metric(m, "precision@10"), 2.0 / 10);  // k beyond the list still divides by k
  EXPECT_DOUBLE_EQ(metric(m, "recall@3"), 0.5);
  EXPECT_DOUBLE_EQ(metric(m, "recall@5"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "mrr@10"), 0.5);
  // DCG = 1/log2(3) + 1/log2(6); ideal DCG of two relevant = 1/log2(2) + 1/log2(3).
  EXPECT_NEAR(metric(m, "ndcg@10"),
              (0.6309297535714575 + 0.38685280723454163) / (1.0 + 0.6309297535714575), 1e-15);
  // MAP@100 = (1/2 + 2/5) / min(100, 2).
  EXPECT_DOUBLE_EQ(metric(m, "map@100"), 0.45);
  EXPECT_EQ(metric(m, "hit_rate@3"), metric(m, "accuracy@3"));
}

TEST(EvalMetrics, KLargerThanTheList) {
  const MetricValues m = query_metrics({7}, set({7}), MetricCutoffs{});
  EXPECT_EQ(metric(m, "accuracy@1"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "precision@10"), 0.1);
  EXPECT_DOUBLE_EQ(metric(m, "recall@10"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "ndcg@10"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "map@100"), 1.0);
  // An empty ranking scores zero everywhere.
  for (const auto& [name, v] : query_metrics({}, set({7}), MetricCutoffs{})) {
    EXPECT_EQ(v, 0.0) << name;
  }
}

// More relevant items than k: MAP divides by min(k, |relevant|), ideal DCG uses min(k, |rel|).
TEST(EvalMetrics, MoreRelevantThanK) {
  MetricCutoffs c;
  c.accuracy = {1};
  c.precision_recall = {3};
  c.mrr = {1};
  c.ndcg = {3, 10};
  c.map = {2, 100};
  const MetricValues m = query_metrics({1, 2, 3}, set({1, 2, 3, 4, 5}), c);
  EXPECT_DOUBLE_EQ(metric(m, "precision@3"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "recall@3"), 3.0 / 5);
  EXPECT_DOUBLE_EQ(metric(m, "mrr@1"), 1.0);
  EXPECT_DOUBLE_EQ(metric(m, "ndcg@3"), 1.0);
  const double l3 = 1 / std::log2(3.0), l4 = 0.5, l5 = 1 / std::log2(5.0), l6 = 1 / std::log2(6.0);
  EXPECT_NEAR(metric(m, "ndcg@10"), (1 + l3 + l4) / (1 + l3 + l4 + l5 + l6), 1e-15);
  EXPECT_DOUBLE_EQ(metric(m, "map@2"), 1.0);        // (1/1 + 2/2) / 2
  EXPECT_DOUBLE_EQ(metric(m, "map@100"), 3.0 / 5);  // (1 + 1 + 1) / 5
}

TEST(EvalMetrics, NoRelevantRetrievedAndNoneRelevantAtAll) {
  for (const auto& [name, v] : query_metrics({1, 2, 3}, set({9}), MetricCutoffs{})) {
    EXPECT_EQ(v, 0.0) << name;
  }
  // A query with no relevant item has no metrics: the dataset skips it before.
  test::expect_error([] { query_metrics({1}, {}, MetricCutoffs{}); }, ErrorKind::kInvalidArgument,
                     {"without relevant"});
}

TEST(EvalMetrics, MeansOverQueriesAndCutoffValidation) {
  MetricAccumulator acc(MetricCutoffs{});
  acc.add({1, 2}, set({1}));  // mrr 1
  acc.add({1, 2}, set({2}));  // mrr 1/2
  acc.add({1, 2}, set({3}));  // mrr 0
  EXPECT_EQ(acc.queries(), 3u);
  EXPECT_DOUBLE_EQ(metric(acc.means(), "mrr@10"), 0.5);
  EXPECT_DOUBLE_EQ(metric(acc.means(), "accuracy@3"), 2.0 / 3);
  EXPECT_EQ(metric(MetricAccumulator(MetricCutoffs{}).means(), "ndcg@10"), 0.0);
  MetricCutoffs bad;
  bad.ndcg = {0};
  test::expect_error([&] { bad.validate(); }, ErrorKind::kInvalidArgument, {"NDCG"});
  EXPECT_EQ(MetricCutoffs{}.max_k(), 100u);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 50), 3.0);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 95), 5.0);
}

// ------------------------------------------------------------------------------ datasets
class EvalDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = std::make_unique<Workspace>(Workspace::open(dir_ / "ws", true));
    std::vector<SkillRecord> recs;
    const std::vector<std::array<std::string, 3>> skills = {
        {"u:python", "Python programmieren", "Programme in Python schreiben"},
        {"u:excel", "Tabellenkalkulation verwenden", "Mit Excel rechnen"},
        {"u:team", "im Team arbeiten", "Mit anderen zusammenarbeiten"},
        {"u:team2", "im Team arbeiten", "Mit anderen zusammenarbeiten"},  // a twin of u:team
        {"u:weld", "Schweißen", "Metallteile verbinden"},
    };
    for (const auto& [uri, label, desc] : skills) {
      SkillRecord r;
      r.uri = uri;
      r.label = label;
      r.description = desc;
      recs.push_back(r);
    }
    ws_->import_taxonomy({"mini", "Mini", "1", "de", "test", "", ""}, recs);
    resolver_ = std::make_unique<SkillResolver>(ws_->skills(), "{label}: {description}");
  }
  std::int64_t id(const std::string& uri) const { return ws_->find("mini", uri)->id; }
  fs::path file(const std::string& name, const std::string& content) const {
    test::spit(dir_ / name, content);
    return dir_ / name;
  }

  test::TempDir dir_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<SkillResolver> resolver_;
};

TEST_F(EvalDatasetTest, TriplesResolveUrisLabelsAndTextsAndMergeRepeatedQueries) {
  const fs::path p = file("t.jsonl",
                          "{\"anchor\": \"Kurs A\", \"positive\": \"u:python\", \"negative\": "
                          "[\"u:weld\"]}\n"
                          "\n"
                          "{\"query\": \"Kurs B\", \"positive\": [\"Schweißen\", \"Mit Excel\"]}\n"
                          "{\"anchor\": \"Kurs A\", \"positive\": \"Tabellenkalkulation "
                          "verwenden: Mit Excel rechnen\"}\n"
                          "{\"anchor\": \"Kurs C\", \"positive\": \"im Team arbeiten\", \"id\": "
                          "\"c\"}\n"
                          "{\"anchor\": \"Kurs D\", \"positive\": [\"gibt es nicht\"]}\n");
  const EvalDataset d = load_dataset(p, *resolver_);
  EXPECT_EQ(d.format, "triples");
  EXPECT_EQ(d.lines, 5u);
  ASSERT_EQ(d.queries.size(), 3u);
  EXPECT_EQ(d.queries[0].id, "q1");
  EXPECT_EQ(d.queries[0].text, "Kurs A");
  std::vector<std::int64_t> a = {id("u:python"), id("u:excel")};
  std::sort(a.begin(), a.end());
  EXPECT_EQ(d.queries[0].relevant, a);
  EXPECT_EQ(d.queries[1].relevant, std::vector<std::int64_t>{id("u:weld")});
  EXPECT_EQ(d.queries[2].id, "c");
  EXPECT_EQ(d.queries[2].relevant.size(), 2u);  // a label of two skills names both
  EXPECT_EQ(d.ambiguous_labels, 1u);
  EXPECT_EQ(d.positives, 6u);
  EXPECT_EQ(d.resolved_positives, 4u);
  EXPECT_EQ(d.skipped_queries, 1u);  // Kurs D
  ASSERT_EQ(d.unresolved.size(), 2u);
  EXPECT_EQ(d.unresolved[0].value, "Mit Excel");
  EXPECT_NE(d.unresolved[0].where.find("line 3"), std::string::npos);
  EXPECT_EQ(d.unresolved[1].value, "gibt es nicht");
}

TEST_F(EvalDatasetTest, BadTriplesAreNamedByLine) {
  test::expect_error(
      [&] {
        load_dataset(file("a.jsonl",
                          "{\"anchor\": \"x\", \"positive\": \"u:python\"}\n"
                          "{\"positive\": \"u:python\"}\n"),
                     *resolver_);
      },
      ErrorKind::kInvalidArgument, {"a.jsonl line 2", "no query"});
  test::expect_error(
      [&] { load_dataset(file("b.jsonl", "{\"anchor\": \"x\", \"positive\": []}\n"), *resolver_); },
      ErrorKind::kInvalidArgument, {"b.jsonl line 1", "no positives"});
  test::expect_error([&] { load_dataset(file("c.jsonl", "{\"anchor\": \"x\"}\n"), *resolver_); },
                     ErrorKind::kInvalidArgument, {"c.jsonl line 1", "no positives"});
  test::expect_error([&] { load_dataset(file("d.jsonl", "\n\n"), *resolver_); },
                     ErrorKind::kInvalidArgument, {"d.jsonl", "no queries"});
  test::expect_error([&] { load_dataset(file("e.jsonl", "{\"anchor\": \"x\",\n"), *resolver_); },
                     ErrorKind::kInvalidArgument, {"e.jsonl line 1"});
  test::expect_error(
      [&] {
        load_dataset(file("f.jsonl", "{\"anchor\": \"\xff\", \"positive\": \"u:weld\"}\n"),
                     *resolver_);
      },
      ErrorKind::kInvalidArgument, {"f.jsonl line 1", "UTF-8"});
  test::expect_error([&] { load_dataset(dir_ / "missing.jsonl", *resolver_); },
                     ErrorKind::kNotFound, {"missing.jsonl"});
}

TEST_F(EvalDatasetTest, LabelsCsvGroupsRowsByText) {
  const fs::path p = file("l.csv",
                          "text,label\n"
                          "Kurs A,Python programmieren\n"
                          "Kurs B,  Schweißen \n"  // surrounding blanks are trimmed
                          "Kurs A,Tabellenkalkulation verwenden\n"
                          "Kurs A,unbekannt\n");
  const EvalDataset d = load_dataset(p, *resolver_);
  EXPECT_EQ(d.format, "labels");
  ASSERT_EQ(d.queries.size(), 2u);
  EXPECT_EQ(d.queries[0].relevant.size(), 2u);
  EXPECT_EQ(d.unresolved.size(), 1u);
  EXPECT_EQ(d.unresolved[0].value, "unbekannt");
  test::expect_error([&] { load_dataset(file("m.csv", "text,skill\nx,y\n"), *resolver_); },
                     ErrorKind::kInvalidArgument, {"m.csv", "label"});
  test::expect_error([&] { load_dataset(file("n.csv", "text,label\nx,\n"), *resolver_); },
                     ErrorKind::kInvalidArgument, {"n.csv line 2", "no positive"});
  test::expect_error([&] { load_dataset(file("o.csv", "text,label\n"), *resolver_); },
                     ErrorKind::kInvalidArgument, {"no queries"});
}

TEST_F(EvalDatasetTest, BeirFolder) {
  const fs::path b = dir_ / "beir";
  fs::create_directories(b / "qrels");
  test::spit(b / "queries.jsonl",
             "{\"_id\": \"q1\", \"text\": \"Kurs A\"}\n{\"_id\": \"q2\", \"text\": \"Kurs B\"}\n"
             "{\"_id\": \"q3\", \"text\": \"nur im train split\"}\n");
  test::spit(b / "corpus.jsonl",
             "{\"_id\": \"u:python\", \"title\": \"\", \"text\": \"\"}\n"
             "{\"_id\": \"d2\", \"title\": \"Schweißen\", \"text\": \"...\"}\n"
             "{\"_id\": \"d3\", \"title\": \"\", \"text\": \"Mit Excel rechnen\"}\n");
  test::spit(b / "qrels" / "test.tsv",
             "query-id\tcorpus-id\tscore\nq1\tu:python\t1\nq1\td2\t0\nq2\td2\t2\nq2\td3\t1\n");
  const EvalDataset d = load_dataset(b, *resolver_);
  EXPECT_EQ(d.format, "beir");
  ASSERT_EQ(d.queries.size(), 2u);
  EXPECT_EQ(d.queries[0].id, "q1");
  EXPECT_EQ(d.queries[0].relevant, std::vector<std::int64_t>{id("u:python")});  // score 0 dropped
  EXPECT_EQ(d.queries[1].relevant, std::vector<std::int64_t>{id("u:weld")});
  EXPECT_EQ(d.unresolved.size(), 1u);  // d3: its text is not a rendering of a skill
  test::spit(b / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore\nq9\tu:python\t1\n");
  test::expect_error([&] { load_dataset(b, *resolver_); }, ErrorKind::kInvalidArgument,
                     {"test.tsv line 2", "q9"});
  for (const char* score : {"nan", "inf", "1x"}) {
    test::spit(b / "qrels" / "test.tsv", std::string("q1\tu:python\t") + score + "\n");
    test::expect_error([&] { load_dataset(b, *resolver_); }, ErrorKind::kInvalidArgument,
                       {"test.tsv line 1", "is not a number"});
  }
  test::spit(b / "qrels" / "test.tsv", "q1 u:python 1\n");
  test::expect_error([&] { load_dataset(b, *resolver_); }, ErrorKind::kInvalidArgument,
                     {"test.tsv line 1", "3 tab-separated"});
  DatasetOptions o;
  o.beir_split = "dev";
  test::expect_error([&] { load_dataset(b, *resolver_, o); }, ErrorKind::kNotFound, {"dev.tsv"});
  // A record without "_id" is named by file and line (found by fuzzing: the message named
  // neither).
  test::spit(b / "qrels" / "test.tsv", "q1\tu:python\t1\n");
  test::spit(b / "corpus.jsonl", "{\"_id\": \"u:python\"}\n{\"title\": \"x\"}\n");
  test::expect_error([&] { load_dataset(b, *resolver_); }, ErrorKind::kInvalidArgument,
                     {"corpus.jsonl line 2", "no \"_id\""});
  test::spit(b / "queries.jsonl", "{\"_id\": 7, \"text\": \"Kurs A\"}\n");
  test::expect_error([&] { load_dataset(b, *resolver_); }, ErrorKind::kInvalidArgument,
                     {"queries.jsonl line 1", "\"_id\" must be a string"});
}

TEST_F(EvalDatasetTest, AUriInTwoTaxonomiesMustBeRestricted) {
  SkillRecord r;
  r.uri = "u:python";
  r.label = "Python";
  ws_->import_taxonomy({"other", "Other", "1", "de", "test", "", ""}, {r});
  test::expect_error([&] { SkillResolver(ws_->skills(), ""); }, ErrorKind::kInvalidArgument,
                     {"u:python", "mini", "other", "--taxonomy"});
}

// Ties: two skills with the same text get the same BM25 score and keep workspace order, so the
// second one is at rank 2, and the run file shows the tie with ranks 1 and 2.
TEST_F(EvalDatasetTest, EvaluateRanksTiesInWorkspaceOrderAndWritesReports) {
  const fs::path p = file("t.jsonl",
                          "{\"anchor\": \"Team\", \"positive\": \"u:team2\"}\n"
                          "{\"anchor\": \"Schweißen von Metall\", \"positive\": \"u:weld\"}\n");
  const EvalDataset d = load_dataset(p, *resolver_);
  const Matcher m(ws_->snapshot(), std::nullopt, nullptr, std::nullopt);
  EvalConfig c;
  c.name = "bm25 test";
  c.rank = [&](const std::string& text, std::size_t depth) {
    SearchOptions o;
    o.mode = RetrievalMode::kBm25;
    o.candidates = o.top = depth;
    std::vector<RankedSkill> out;
    for (const auto& r : m.match(*ws_, text, o)) out.push_back({r.skill.id, r.score});
    return out;
  };
  const auto results = evaluate(d, {c}, MetricCutoffs{});
  ASSERT_EQ(results.size(), 1u);
  const auto& r = results[0];
  ASSERT_GE(r.runs[0].ranking.size(), 2u);
  EXPECT_EQ(r.runs[0].ranking[0].skill_id, id("u:team"));
  EXPECT_EQ(r.runs[0].ranking[1].skill_id, id("u:team2"));
  EXPECT_EQ(r.runs[0].ranking[0].score, r.runs[0].ranking[1].score);
  EXPECT_EQ(r.runs[1].ranking[0].skill_id, id("u:weld"));
  EXPECT_DOUBLE_EQ(metric(r.metrics, "mrr@10"), (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(metric(r.metrics, "accuracy@1"), 0.5);

  const std::string run = format_trec_run(d, r, *resolver_);
  EXPECT_EQ(run.substr(0, 15), "q1 Q0 u:team 1 ");
  EXPECT_NE(run.find("q1 Q0 u:team2 2 "), std::string::npos);
  EXPECT_NE(run.find(" bm25_test\n"), std::string::npos);  // blanks in a tag become _
  EXPECT_EQ(format_trec_qrels(d, *resolver_), "q1 0 u:team2 1\nq2 0 u:weld 1\n");
  const std::string table = format_table(d, results);
  EXPECT_NE(table.find("mrr@10"), std::string::npos);
  EXPECT_NE(table.find("0.7500"), std::string::npos);
  EXPECT_EQ(table.find("hit_rate@1 "), std::string::npos);
  const auto j = nlohmann::json::parse(format_json(d, results, 100));
  EXPECT_EQ(j["dataset"]["queries_evaluated"], 2);
  EXPECT_DOUBLE_EQ(j["configurations"][0]["metrics"]["hit_rate@1"].get<double>(), 0.5);
  EXPECT_NE(format_markdown(d, results).find("| mrr@10 | 0.7500 |"), std::string::npos);
  const std::string svg = format_svg(d, results);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("bm25 test mrr@10 = 0.7500"), std::string::npos);
}

}  // namespace
}  // namespace skillmatch
