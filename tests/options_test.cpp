// The one option parser: the same names, ranges and messages from text (flags, key=value) and
// from JSON.
#include "skillmatch/options.h"

#include <gtest/gtest.h>

#include <limits>

#include "skillmatch/engine.h"
#include "test_util.h"

namespace skillmatch {
namespace {

using test::expect_error;

TEST(Options, WholeNumbersAreStrict) {
  EXPECT_EQ(parse_count("top", "5", 1, 10), 5u);
  for (const char* bad :
       {"-1", "abc", "1.5", " 5", "5 ", "", "+5", "0x5", "99999999999999999999"}) {
    expect_error([&] { parse_count("top", bad, 1, 10); }, ErrorKind::kInvalidArgument,
                 {"top: expected a whole number from 1 to 10"});
  }
  expect_error([&] { parse_count("top", "0", 1, 10); }, ErrorKind::kInvalidArgument, {"got 0"});
  expect_error([&] { parse_count("top", "11", 1, 10); }, ErrorKind::kInvalidArgument, {"got 11"});
}

TEST(Options, NumbersMustBeFiniteAndInRange) {
  EXPECT_DOUBLE_EQ(parse_number("w", "0.25", 0, 1), 0.25);
  EXPECT_DOUBLE_EQ(parse_number("w", "1e-1", 0, 1), 0.1);
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "abc", "", "0.5x", " 0.5", "1e999"}) {
    expect_error([&] { parse_number("w", bad, 0, 1); }, ErrorKind::kInvalidArgument,
                 {"w: expected a number from 0 to 1"});
  }
  expect_error([&] { parse_number("w", "7", 0, 1); }, ErrorKind::kInvalidArgument, {"got 7"});
  expect_error([&] { parse_number("w", "-60", 0, 100000); }, ErrorKind::kInvalidArgument,
               {"got -60"});
}

TEST(Options, JsonValuesMustHaveTheirType) {
  EXPECT_EQ(json_count("top", nlohmann::json(3), 1, 10), 3u);
  EXPECT_EQ(json_count("top", nlohmann::json(3.0), 1, 10), 3u);
  for (const auto& bad : {nlohmann::json(-1), nlohmann::json(2.5), nlohmann::json("3"),
                          nlohmann::json(true), nlohmann::json(nullptr), nlohmann::json(11)}) {
    expect_error([&] { json_count("top", bad, 1, 10); }, ErrorKind::kInvalidArgument,
                 {"top: expected a whole number from 1 to 10"});
  }
  expect_error([&] { json_number("w", nlohmann::json("0.5"), 0, 1); }, ErrorKind::kInvalidArgument,
               {"w: expected a number", "string"});
  expect_error([&] { json_flag("gap", nlohmann::json(1)); }, ErrorKind::kInvalidArgument,
               {"gap: expected true or false"});
  EXPECT_EQ(json_text_list("t", nlohmann::json("a")), std::vector<std::string>{"a"});
  EXPECT_EQ(json_text_list("t", nlohmann::json::array({"a", "b"})),
            (std::vector<std::string>{"a", "b"}));
  expect_error(
      [&] {
        json_text_list("t", nlohmann::json::array({"a", 1}));
      },
      ErrorKind::kInvalidArgument, {"t: expected a list of strings"});
}

TEST(Options, KeyValueListsKeepCommasInValues) {
  const auto kv = split_key_values("name=a,template={label}, {description},top=3", "--config x");
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[1].first, "template");
  EXPECT_EQ(kv[1].second, "{label}, {description}");
  EXPECT_EQ(kv[2].second, "3");
  expect_error([&] { split_key_values("mode", "--config 'mode'"); }, ErrorKind::kInvalidArgument,
               {"--config 'mode': 'mode' is not key=value"});
}

// The match options read the same from text and from JSON, with '_' or '-' in names.
TEST(Options, MatchOptionsFromTextAndJsonAgree) {
  MatchOptions a, b;
  const auto& t = match_option_table();
  t.set_pairs(a,
              "mode=dense,fusion=weighted,dense-weight=0.3,top=7,candidates=50,threshold=0.2,"
              "gap=true,rerank=false,taxonomy=esco-de,taxonomy=greta,bm25-weights=3,0,1,"
              "pair-truncation=longest-first,query-max-length=100,ef-search=64,ann=true",
              "test");
  t.set_object(b, nlohmann::json::parse(R"({"mode": "dense", "fusion": "weighted",
      "dense_weight": 0.3, "top": 7, "candidates": 50, "threshold": 0.2, "gap": true,
      "rerank": false, "taxonomy": ["esco-de", "greta"], "bm25_weights": "3,0,1",
      "pair_truncation": "longest-first", "query_max_length": 100, "ef_search": 64,
      "ann": true})"));
  for (const MatchOptions* o : {&a, &b}) {
    EXPECT_EQ(o->search.mode, RetrievalMode::kDense);
    EXPECT_EQ(o->search.fusion, Fusion::kWeighted);
    EXPECT_DOUBLE_EQ(o->search.dense_weight, 0.3);
    EXPECT_EQ(o->search.top, 7u);
    EXPECT_EQ(o->search.candidates, 50u);
    EXPECT_DOUBLE_EQ(*o->search.threshold, 0.2);
    EXPECT_TRUE(o->search.cut_at_largest_gap);
    EXPECT_FALSE(o->search.rerank);
    EXPECT_EQ(o->search.filter.taxonomies, (std::vector<std::string>{"esco-de", "greta"}));
    EXPECT_DOUBLE_EQ(o->search.bm25_weights.alt_labels, 0);
    EXPECT_EQ(o->search.pair.truncation, PairTruncation::kLongestFirst);
    EXPECT_EQ(o->search.pair.query_max_length, 100u);
    EXPECT_EQ(o->search.ef_search, 64);
    EXPECT_TRUE(o->search.ann);
  }
  // Defaults are those of the structs.
  const MatchOptions d;
  EXPECT_EQ(d.search.mode, RetrievalMode::kHybrid);
  EXPECT_EQ(d.search.top, 10u);
  EXPECT_EQ(d.search.candidates, 30u);
  EXPECT_EQ(d.search.pair.truncation, PairTruncation::kFlagEmbedding);
}

TEST(Options, RefusalsNameTheOptionAndTheRange) {
  const auto& t = match_option_table();
  MatchOptions o;
  expect_error([&] { t.set(o, "top", "-1"); }, ErrorKind::kInvalidArgument,
               {"top: expected a whole number from 1 to 1000, got '-1'"});
  expect_error([&] { t.set(o, "dense-weight", "nan"); }, ErrorKind::kInvalidArgument,
               {"dense-weight: expected a number from 0 to 1"});
  expect_error([&] { t.set(o, "dense_weight", "7"); }, ErrorKind::kInvalidArgument,
               {"dense-weight: expected a number from 0 to 1, got 7"});
  expect_error([&] { t.set(o, "rrf-k", "-60"); }, ErrorKind::kInvalidArgument, {"rrf-k"});
  expect_error([&] { t.set(o, "threshold", "nan"); }, ErrorKind::kInvalidArgument,
               {"threshold: expected a number"});
  expect_error([&] { t.set(o, "mode", "fuzzy"); }, ErrorKind::kInvalidArgument,
               {"mode: expected dense, bm25 or hybrid, got 'fuzzy'"});
  expect_error([&] { t.set(o, "dtype", "float8"); }, ErrorKind::kInvalidArgument,
               {"dtype: expected auto, float32, bfloat16 or int8"});
  expect_error([&] { t.set(o, "bm25-weights", "0,0,0"); }, ErrorKind::kInvalidArgument,
               {"bm25-weights", "not all 0"});
  expect_error([&] { t.set(o, "colour", "blue"); }, ErrorKind::kInvalidArgument,
               {"unknown option 'colour'", "candidates"});
  expect_error(
      [&] { t.set_object(o, nlohmann::json::parse(R"({"embedder": "/x"})"), {}, {"embedder"}); },
      ErrorKind::kInvalidArgument, {"embedder: cannot be set here"});
  expect_error([&] { t.set_object(o, nlohmann::json::array()); }, ErrorKind::kInvalidArgument,
               {"JSON object"});
  // Every option states its range or values in its help.
  for (const auto& opt : t.options()) EXPECT_FALSE(opt.help.empty()) << opt.name;
}

}  // namespace
}  // namespace skillmatch
