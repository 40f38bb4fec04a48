// Broken and unsupported model folders: each gives one Error of the right kind whose message
// names the file and the reason.
#include <gtest/gtest.h>

#include "skillmatch/core/error.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/model/model_config.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;

nlohmann::json read(const fs::path& p) {
  return test::load_json(p);
}
void write(const fs::path& p, const nlohmann::json& j) {
  test::spit(p, j.dump(2));
}

class BrokenModel : public ::testing::Test {
 protected:
  fs::path embedder() { return test::copy_fixture("embedder-cls", dir_ / "embedder"); }
  fs::path reranker() { return test::copy_fixture("reranker", dir_ / "reranker"); }
  test::TempDir dir_;
};

TEST_F(BrokenModel, MissingFolder) {
  test::expect_error([&] { BiEncoder::load(dir_ / "nope"); }, ErrorKind::kNotFound,
                     {"model folder", "nope", "does not exist"});
  test::expect_error([&] { CrossEncoder::load(dir_ / "nope"); }, ErrorKind::kNotFound, {"nope"});
}

TEST_F(BrokenModel, MissingFiles) {
  auto m = embedder();
  fs::remove(m / "config.json");
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kNotFound, {"config.json"});
  fs::remove_all(m);
  m = embedder();
  fs::remove(m / "sentencepiece.bpe.model");
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kNotFound,
                     {"sentencepiece.bpe.model"});
  fs::remove_all(m);
  m = embedder();
  fs::remove(m / "model.safetensors");
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kNotFound,
                     {"no model.safetensors or pytorch_model.bin"});
  fs::remove_all(m);
  m = embedder();
  fs::remove(m / "1_Pooling" / "config.json");
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kNotFound, {"1_Pooling"});
}

TEST_F(BrokenModel, TruncatedSafetensors) {
  const auto m = embedder();
  const std::string bytes = test::slurp(m / "model.safetensors");
  test::spit(m / "model.safetensors", bytes.substr(0, bytes.size() - 1000));
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt,
                     {"model.safetensors", "truncated"});
}

TEST_F(BrokenModel, ConfigDisagreesWithWeights) {
  const auto m = embedder();
  auto config = read(m / "config.json");
  config["intermediate_size"] = 128;  // the weights have 64
  write(m / "config.json", config);
  test::expect_error(
      [&] { BiEncoder::load(m); }, ErrorKind::kCorrupt,
      {"model.safetensors", "intermediate.dense.weight", "[64, 32]", "expected [128, 32]"});
}

TEST_F(BrokenModel, InvalidConfigJson) {
  const auto m = embedder();
  test::spit(m / "config.json", "{\"hidden_size\": 32,");
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt, {"config.json", "JSON"});
  write(m / "config.json", {{"model_type", "xlm-roberta"}});
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt,
                     {"config.json", "vocab_size", "missing"});
  auto config = read(test::fixtures() / "embedder-cls" / "config.json");
  config["hidden_size"] = "32";
  write(m / "config.json", config);
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt,
                     {"hidden_size", "wrong type"});
  config = read(test::fixtures() / "embedder-cls" / "config.json");
  config["model_type"] = "bert";
  write(m / "config.json", config);
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kUnsupported, {"model_type", "bert"});
  config = read(test::fixtures() / "embedder-cls" / "config.json");
  config["num_attention_heads"] = 5;
  write(m / "config.json", config);
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt, {"num_attention_heads"});
}

TEST_F(BrokenModel, UnknownPoolingModeIsRefusedByName) {
  const auto m = embedder();
  write(m / "1_Pooling" / "config.json",
        {{"word_embedding_dimension", 32}, {"pooling_mode_attention_tokens", true}});
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kUnsupported,
                     {"1_Pooling", "pooling_mode_attention_tokens"});
  write(m / "1_Pooling" / "config.json", {{"word_embedding_dimension", 32}});
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt, {"no pooling mode"});
  write(m / "1_Pooling" / "config.json",
        {{"word_embedding_dimension", 64}, {"pooling_mode_cls_token", true}});
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt,
                     {"word_embedding_dimension"});
}

TEST_F(BrokenModel, UnsupportedModuleIsRefusedByName) {
  const auto m = embedder();
  auto modules = read(m / "modules.json");
  modules.push_back({{"idx", 3},
                     {"name", "3"},
                     {"path", "3_Dense"},
                     {"type", "sentence_transformers.models.Dense"}});
  write(m / "modules.json", modules);
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kUnsupported,
                     {"modules.json", "sentence_transformers.models.Dense"});
}

TEST_F(BrokenModel, UnknownPromptNameInConfig) {
  const auto m = embedder();
  auto st = read(m / "config_sentence_transformers.json");
  st["default_prompt_name"] = "document";
  write(m / "config_sentence_transformers.json", st);
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt, {"default_prompt_name"});
}

TEST_F(BrokenModel, RerankerWithSeveralLabelsIsRefused) {
  const auto m = reranker();
  auto config = read(m / "config.json");
  config["id2label"] = {{"0", "NEG"}, {"1", "POS"}};
  write(m / "config.json", config);
  test::expect_error([&] { CrossEncoder::load(m); }, ErrorKind::kUnsupported, {"2 labels"});
}

TEST_F(BrokenModel, EmbedderIsNotACrossEncoder) {
  test::expect_error([&] { CrossEncoder::load(test::fixtures() / "embedder-cls"); },
                     ErrorKind::kUnsupported, {"XLMRobertaModel", "not a sequence classifier"});
  const auto m = embedder();
  auto config = read(m / "config.json");
  config["architectures"] = {"XLMRobertaForSequenceClassification"};
  write(m / "config.json", config);
  test::expect_error([&] { CrossEncoder::load(m); }, ErrorKind::kNotFound,
                     {"classifier.dense.weight"});
}

TEST_F(BrokenModel, TokenizerOfAnotherModel) {
  const auto m = embedder();
  auto config = read(m / "config.json");
  config["vocab_size"] = 1000;
  write(m / "config.json", config);
  test::expect_error([&] { BiEncoder::load(m); }, ErrorKind::kCorrupt,
                     {"sentencepiece.bpe.model", "4002", "1000"});
}

// Integer keys take whole numbers inside their range (found by fuzzing: "type_vocab_size":
// 1e+301 was converted to int64 with undefined behaviour, true became 1 without a word), and
// sizes that would overflow when combined are refused by name.
TEST(ModelConfig, IntegerKeysAreWholeNumbersInRange) {
  const auto config = test::load_json(test::fixtures() / "reranker" / "config.json");
  auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json c = config;
    c[key] = value;
    return c.dump();
  };
  EXPECT_EQ(ModelConfig::parse(with("hidden_size", 32.0), "c.json").hidden_size, 32);
  for (const auto& v : {nlohmann::json(1e301), nlohmann::json(32.5), nlohmann::json(-1e19),
                        nlohmann::json(18446744073709551615u)}) {
    test::expect_error([&] { ModelConfig::parse(with("type_vocab_size", v), "c.json"); },
                       ErrorKind::kCorrupt,
                       {"c.json: key 'type_vocab_size' must be a whole number"});
  }
  test::expect_error([&] { ModelConfig::parse(with("hidden_size", true), "c.json"); },
                     ErrorKind::kCorrupt,
                     {"c.json: key 'hidden_size' has the wrong type (boolean)"});
  nlohmann::json c = config;
  c["vocab_size"] = 9223372036854775807LL;
  c["pad_token_id"] = 9223372036854775806LL;
  test::expect_error([&] { ModelConfig::parse(c.dump(), "c.json"); }, ErrorKind::kCorrupt,
                     {"max_position_embeddings", "padding offset"});
  test::expect_error([&] { ModelConfig::parse(with("max_position_embeddings", -5), "c.json"); },
                     ErrorKind::kCorrupt, {"max_position_embeddings must be positive"});
}

TEST(ModelConfig, MaxTokensFollowsThePositionTable) {
  const auto c = ModelConfig::load(test::fixtures() / "reranker" / "config.json");
  EXPECT_EQ(c.max_tokens(), 512);
  EXPECT_EQ(c.num_labels, 1);
  EXPECT_EQ(c.architectures.at(0), "XLMRobertaForSequenceClassification");
}

}  // namespace
}  // namespace skillmatch
