// The cross-encoder against the float64 reference: every pair of rerank.json at both max lengths.
#include "skillmatch/model/cross_encoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "skillmatch/core/cpu.h"

#include "skillmatch/core/error.h"
#include "test_util.h"

namespace skillmatch {
namespace {

using test::fixtures;

struct Case {
  TextPair pair;
  std::size_t max_length;
  double score, sigmoid;
  TokenIds ids;
};

// rerank.json: truncated longest-first; rerank_flagembedding.json: as FlagReranker does today.
std::vector<Case> cases(const char* file = "rerank.json") {
  std::vector<Case> out;
  const auto json = test::load_json(fixtures() / "expected" / file);
  for (const auto& c : json["cases"]) {
    out.push_back({{c["query"], c["passage"]},
                   c["max_length"],
                   c["score"],
                   c["score_sigmoid"],
                   c["ids"].get<TokenIds>()});
  }
  return out;
}

InferenceOptions opts(DType dtype, std::size_t batch = 32) {
  InferenceOptions o;
  o.dtype = dtype;
  o.batch_size = batch;
  return o;
}

void expect_reference(const char* file, PairTruncation truncation) {
  const CrossEncoder ce = CrossEncoder::load(fixtures() / "reranker", opts(DType::kFloat32));
  EXPECT_EQ(ce.max_length(), 512u);
  const auto cs = cases(file);
  ASSERT_EQ(cs.size(), 18u);
  for (std::size_t max_len : {512u, 64u}) {
    std::vector<TextPair> pairs;
    std::vector<const Case*> refs;
    for (const auto& c : cs) {
      if (c.max_length != max_len) continue;
      pairs.push_back(c.pair);
      refs.push_back(&c);
    }
    PairOptions po;
    po.truncation = truncation;
    po.max_length = max_len;
    const auto ids = ce.tokenize(pairs, po);
    const auto scores = ce.score(pairs, po);
    ASSERT_EQ(scores.size(), pairs.size());
    for (std::size_t i = 0; i < scores.size(); ++i) {
      EXPECT_EQ(ids[i], refs[i]->ids) << file << ": " << pairs[i].first.substr(0, 40);
      EXPECT_NEAR(scores[i], refs[i]->score, 1e-4) << file << ": " << pairs[i].first.substr(0, 40);
      EXPECT_NEAR(sigmoid(scores[i]), refs[i]->sigmoid, 1e-4);
    }
  }
}

TEST(CrossEncoder, Float32MatchesFlagEmbeddingReferenceByDefault) {
  EXPECT_EQ(PairOptions{}.truncation, PairTruncation::kFlagEmbedding);
  expect_reference("rerank_flagembedding.json", PairTruncation::kFlagEmbedding);
}

TEST(CrossEncoder, Float32MatchesLongestFirstReference) {
  expect_reference("rerank.json", PairTruncation::kLongestFirst);
}

// The two rules differ only where the query is longer than 3/4 of the max length.
TEST(CrossEncoder, TruncationRulesDifferOnlyForLongQueries) {
  const auto lf = cases("rerank.json");
  const auto fe = cases("rerank_flagembedding.json");
  ASSERT_EQ(lf.size(), fe.size());
  const CrossEncoder ce = CrossEncoder::load(fixtures() / "reranker", opts(DType::kFloat32));
  std::size_t differ = 0;
  for (std::size_t i = 0; i < lf.size(); ++i) {
    const std::size_t query_ids = ce.tokenizer().encode_pieces(lf[i].pair.first).size();
    if (lf[i].ids != fe[i].ids) {
      ++differ;
      EXPECT_GT(query_ids, lf[i].max_length * 3 / 4) << lf[i].pair.first.substr(0, 40);
    }
  }
  EXPECT_GT(differ, 0u) << "the fixtures should hold a pair that the rules cut differently";
  // A custom query limit, and a max length too short for the query alone.
  PairOptions po;
  po.max_length = 12;
  po.query_max_length = 4;
  const TokenIds ids = ce.tokenize({{lf[0].pair.first, lf[0].pair.second}}, po)[0];
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(ids[5], Tokenizer::kEos);  // <s> + 4 query ids + </s>
  po.query_max_length = 100;
  EXPECT_EQ(ce.tokenize({{lf[0].pair.first, lf[0].pair.second}}, po)[0].size(), 12u);
}

// A query shared by consecutive pairs is tokenized once; the ids are those of the pairs
// tokenized one by one, under both truncation rules.
TEST(CrossEncoder, OneQueryWithManyPassagesTokenizesAlike) {
  const CrossEncoder ce = CrossEncoder::load(fixtures() / "reranker", opts(DType::kFloat32));
  const std::string q = "Grundlagen der Buchhaltung und Tabellenkalkulation für Einsteiger";
  const std::vector<TextPair> pairs = {
      {q, "Buchhaltung"}, {q, "Schafe scheren"}, {"x", "y"}, {q, std::string(3000, 'a')}, {q, ""}};
  for (const auto rule : {PairTruncation::kFlagEmbedding, PairTruncation::kLongestFirst}) {
    PairOptions po;
    po.truncation = rule;
    po.max_length = 24;
    const std::vector<TokenIds> together = ce.tokenize(pairs, po);
    ASSERT_EQ(together.size(), pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      EXPECT_EQ(ce.tokenize({pairs[i]}, po)[0], together[i]) << i;
      EXPECT_LE(together[i].size(), 24u);
    }
    EXPECT_EQ(together[3].size(), 24u);
  }
}

TEST(CrossEncoder, BFloat16IsCloseToFloat32) {
  // Scores of the tiny model lie within a few units; bfloat16 rounding (2^-9 relative) through
  // two layers keeps them within 0.05 and the sigmoid within 0.01.
  const CrossEncoder f32 = CrossEncoder::load(fixtures() / "reranker", opts(DType::kFloat32));
  const CrossEncoder bf16 = CrossEncoder::load(fixtures() / "reranker", opts(DType::kBFloat16));
  std::vector<TextPair> pairs;
  for (const auto& c : cases()) pairs.push_back(c.pair);
  ASSERT_EQ(pairs.size(), 18u);
  const auto a = f32.score(pairs);
  const auto b = bf16.score(pairs);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], 0.05);
    EXPECT_NEAR(sigmoid(a[i]), sigmoid(b[i]), 0.01);
  }
}

TEST(CrossEncoder, Int8IsCloseToFloat32) {
  if (!cpu_has_int8_dot()) GTEST_SKIP() << "no VNNI/AMX on this CPU: --dtype int8 is refused";
  const CrossEncoder f32 = CrossEncoder::load(fixtures() / "reranker", opts(DType::kFloat32));
  const CrossEncoder i8 = CrossEncoder::load(fixtures() / "reranker", opts(DType::kInt8));
  std::vector<TextPair> pairs;
  for (const auto& c : cases()) pairs.push_back(c.pair);
  const auto a = f32.score(pairs);
  const auto b = i8.score(pairs);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], 0.05) << i;
    EXPECT_NEAR(sigmoid(a[i]), sigmoid(b[i]), 0.01) << i;
  }
}

TEST(CrossEncoder, ResultsDoNotDependOnBatchSize) {
  std::vector<TextPair> pairs;
  for (int rep = 0; rep < 4; ++rep) {
    for (const auto& c : cases()) pairs.push_back(c.pair);
  }
  ASSERT_EQ(pairs.size(), 72u);
  std::vector<float> reference;
  for (std::size_t batch : {1u, 7u, 64u}) {
    const CrossEncoder ce =
        CrossEncoder::load(fixtures() / "reranker", opts(DType::kFloat32, batch));
    const auto s = ce.score(pairs);
    if (reference.empty()) {
      reference = s;
      continue;
    }
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_NEAR(s[i], reference[i], 1e-6) << batch;
  }
}

TEST(CrossEncoder, SigmoidIsStableAtTheExtremes) {
  EXPECT_FLOAT_EQ(sigmoid(0), 0.5f);
  EXPECT_FLOAT_EQ(sigmoid(100), 1.0f);
  EXPECT_GE(sigmoid(-100), 0.0f);
  EXPECT_LT(sigmoid(-100), 1e-30f);
  EXPECT_FALSE(std::isnan(sigmoid(-1e30f)));
}

TEST(CrossEncoder, MaxLengthBeyondModelIsRejected) {
  const CrossEncoder ce = CrossEncoder::load(fixtures() / "reranker");
  PairOptions po;
  po.max_length = 600;
  EXPECT_THROW(ce.score({{"a", "b"}}, po), Error);
  EXPECT_THROW(ce.score({{"a", "\xC3"}}), Error);
}

}  // namespace
}  // namespace skillmatch
