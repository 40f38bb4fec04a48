// The bi-encoder against the float64 reference of the fixtures: every case, both pooling
// fixtures, all three prompts; bfloat16 close to float32; results independent of batching.
#include "skillmatch/model/bi_encoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "skillmatch/core/cpu.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/matrix.h"
#include "test_util.h"

namespace skillmatch {
namespace {

using test::fixtures;

double max_abs_diff(const float* a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

InferenceOptions opts(DType dtype, std::size_t batch = 32) {
  InferenceOptions o;
  o.dtype = dtype;
  o.batch_size = batch;
  return o;
}

// Cases of embed.json for one model, grouped by prompt.
struct Group {
  std::string prompt;
  std::vector<std::string> texts;
  std::vector<std::vector<double>> expected;
};

std::vector<Group> groups(const std::string& model) {
  const auto j = test::load_json(fixtures() / "expected" / "embed.json")[model];
  std::vector<Group> out;
  for (const auto& c : j["cases"]) {
    const std::string prompt = c["prompt"];
    if (out.empty() || out.back().prompt != prompt) out.push_back({prompt, {}, {}});
    out.back().texts.push_back(c["text"]);
    out.back().expected.push_back(c["embedding"].get<std::vector<double>>());
  }
  return out;
}

class BiEncoderFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(BiEncoderFixture, Float32MatchesReferenceWithin1e4) {
  const BiEncoder enc = BiEncoder::load(fixtures() / GetParam(), opts(DType::kFloat32));
  EXPECT_EQ(enc.dtype(), DType::kFloat32);
  const auto gs = groups(GetParam());
  ASSERT_EQ(gs.size(), 3u);  // "query: ", "passage: ", none
  std::size_t n = 0;
  for (const auto& g : gs) {
    const Matrix m = enc.embed(g.texts, g.prompt);
    ASSERT_EQ(m.rows, g.texts.size());
    ASSERT_EQ(m.cols, enc.dimension());
    for (std::size_t i = 0; i < m.rows; ++i, ++n) {
      EXPECT_LT(max_abs_diff(m.row(i), g.expected[i]), 1e-4)
          << "prompt '" << g.prompt << "' text: " << g.texts[i].substr(0, 60);
    }
  }
  EXPECT_EQ(n, 36u);
}

TEST_P(BiEncoderFixture, BFloat16IsCloseToFloat32) {
  // bfloat16 keeps 8 bits of mantissa (relative error 2^-9 per rounding): over two layers the
  // vectors stay close in direction; cosine >= 0.99 is the acceptance line of the issue, and we
  // also bound the largest coordinate error.
  const BiEncoder f32 = BiEncoder::load(fixtures() / GetParam(), opts(DType::kFloat32));
  const BiEncoder bf16 = BiEncoder::load(fixtures() / GetParam(), opts(DType::kBFloat16));
  EXPECT_EQ(bf16.dtype(), DType::kBFloat16);
  for (const auto& g : groups(GetParam())) {
    const Matrix a = f32.embed(g.texts, g.prompt);
    const Matrix b = bf16.embed(g.texts, g.prompt);
    for (std::size_t i = 0; i < a.rows; ++i) {
      EXPECT_GE(cosine_double(a.row(i), b.row(i), a.cols), 0.99) << g.texts[i].substr(0, 60);
      EXPECT_LT(max_abs_diff(b.row(i), g.expected[i]), 0.05);
    }
  }
}

TEST_P(BiEncoderFixture, Int8IsCloseToFloat32) {
  if (!cpu_has_int8_dot()) GTEST_SKIP() << "no VNNI/AMX on this CPU: --dtype int8 is refused";
  // int8 rounds every linear layer's input to 256 levels per token and its weights to 255 per
  // output channel (relative error about 1% per product); through the tiny model's two layers
  // the vectors keep their direction (cosine >= 0.99, as for bfloat16).
  const BiEncoder f32 = BiEncoder::load(fixtures() / GetParam(), opts(DType::kFloat32));
  const BiEncoder i8 = BiEncoder::load(fixtures() / GetParam(), opts(DType::kInt8));
  EXPECT_EQ(i8.dtype(), DType::kInt8);
  double worst = 1;
  for (const auto& g : groups(GetParam())) {
    const Matrix a = f32.embed(g.texts, g.prompt);
    const Matrix b = i8.embed(g.texts, g.prompt);
    for (std::size_t i = 0; i < a.rows; ++i) {
      worst = std::min(worst, cosine_double(a.row(i), b.row(i), a.cols));
      EXPECT_LT(max_abs_diff(b.row(i), g.expected[i]), 0.05);
    }
  }
  EXPECT_GE(worst, 0.99);
}

TEST_P(BiEncoderFixture, ResultsDoNotDependOnBatchSize) {
  std::vector<std::string> texts;
  std::string prompt;
  for (const auto& g : groups(GetParam()))
    texts.insert(texts.end(), g.texts.begin(), g.texts.end());
  // 108 texts of very different lengths: batches of 64 mix short and 512-token sequences.
  Matrix reference;
  for (std::size_t batch : {1u, 7u, 64u}) {
    const BiEncoder enc = BiEncoder::load(fixtures() / GetParam(), opts(DType::kFloat32, batch));
    const Matrix m = enc.embed(texts, "query: ");
    if (batch == 1) {
      reference = m;
      continue;
    }
    ASSERT_EQ(m.rows, reference.rows);
    double worst = 0;
    for (std::size_t i = 0; i < m.data.size(); ++i) {
      worst = std::max(worst, double(std::abs(m.data[i] - reference.data[i])));
    }
    // Padding is masked out exactly; what remains is the summation order of the matrix
    // products, which differs with the batch shape in the last float32 bits.
    EXPECT_LT(worst, 1e-6) << "batch size " << batch;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BiEncoderFixture,
                         ::testing::Values("embedder-cls", "embedder-mean"));

TEST(BiEncoder, ReadsSentenceTransformersConfiguration) {
  const BiEncoder cls = BiEncoder::load(fixtures() / "embedder-cls");
  EXPECT_EQ(cls.pooling(), "cls");
  EXPECT_TRUE(cls.normalizes());
  EXPECT_EQ(cls.max_seq_length(), 512u);
  EXPECT_EQ(cls.dimension(), 32u);
  EXPECT_EQ(cls.prompt("query").value_or(""), "query: ");
  EXPECT_EQ(cls.prompt("passage").value_or(""), "passage: ");
  EXPECT_FALSE(cls.prompt("nope").has_value());
  EXPECT_EQ(cls.default_prompt_name(), "");
  const BiEncoder mean = BiEncoder::load(fixtures() / "embedder-mean");
  EXPECT_EQ(mean.pooling(), "mean");
  EXPECT_EQ(mean.max_seq_length(), 128u);
}

TEST(BiEncoder, EmptyInputAndEmptyText) {
  const BiEncoder enc = BiEncoder::load(fixtures() / "embedder-cls", opts(DType::kFloat32));
  const Matrix none = enc.embed({});
  EXPECT_EQ(none.rows, 0u);
  // An empty text is "<s></s>", as in sentence-transformers: a valid unit vector.
  const Matrix m = enc.embed({""});
  double norm = 0;
  for (std::size_t i = 0; i < m.cols; ++i) norm += double(m.row(0)[i]) * m.row(0)[i];
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(BiEncoder, TextFarOver512TokensIsTruncatedLikePython) {
  const BiEncoder enc = BiEncoder::load(fixtures() / "embedder-mean", opts(DType::kFloat32));
  std::string huge;
  for (int i = 0; i < 50000; ++i) huge += "Weiterbildung im Bereich Pflege ";
  const auto ids = enc.tokenize({huge}, "query: ");
  EXPECT_EQ(ids[0].size(), 128u);
  const Matrix a = enc.embed({huge}, "query: ");
  const Matrix b = enc.embed_tokens(ids);
  for (std::size_t i = 0; i < a.cols; ++i) EXPECT_FLOAT_EQ(a.row(0)[i], b.row(0)[i]);
}

TEST(BiEncoder, InvalidUtf8NamesTheText) {
  const BiEncoder enc = BiEncoder::load(fixtures() / "embedder-cls");
  try {
    enc.embed({"fine", "bad \xFF byte"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("text 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte 4"), std::string::npos);
  }
}

TEST(BiEncoder, LoadsFolderWithOnlyPytorchModelBin) {
  test::TempDir dir;
  const auto folder = test::copy_fixture("embedder-cls", dir / "m");
  std::filesystem::remove(folder / "model.safetensors");
  std::filesystem::copy_file(test::test_data() / "pytorch_model.bin", folder / "pytorch_model.bin");
  const BiEncoder bin = BiEncoder::load(folder, opts(DType::kFloat32));
  const BiEncoder st = BiEncoder::load(fixtures() / "embedder-cls", opts(DType::kFloat32));
  const Matrix a = bin.embed({"Buchhaltung"}, "query: ");
  const Matrix b = st.embed({"Buchhaltung"}, "query: ");
  EXPECT_EQ(a.data, b.data);
}

// Every pooling mode of sentence-transformers, against tests/data/pooling_expected.json (float64
// reference, see tests/tools/make_test_data.py).
TEST(BiEncoder, EveryPoolingModeMatchesReference) {
  const auto ref = test::load_json(test::test_data() / "pooling_expected.json");
  const auto texts = ref["texts"].get<std::vector<std::string>>();
  const std::string prompt = ref["prompt"];
  struct ModeConfig {
    const char* name;
    nlohmann::json config;
  };
  const std::vector<ModeConfig> modes = {
      {"max", {{"pooling_mode_max_tokens", true}}},
      {"mean_sqrt_len_tokens", {{"pooling_mode_mean_sqrt_len_tokens", true}}},
      {"weightedmean", {{"pooling_mode_weightedmean_tokens", true}}},
      {"lasttoken", {{"pooling_mode_lasttoken", true}}},
      {"cls+mean", {{"pooling_mode_cls_token", true}, {"pooling_mode_mean_tokens", true}}},
      {"mean/include_prompt=false",
       {{"pooling_mode_mean_tokens", true}, {"include_prompt", false}}},
  };
  test::TempDir dir;
  const auto folder = test::copy_fixture("embedder-cls", dir / "m");
  for (const auto& m : modes) {
    SCOPED_TRACE(m.name);
    nlohmann::json config = m.config;
    config["word_embedding_dimension"] = 32;
    test::spit(folder / "1_Pooling" / "config.json", config.dump());
    const BiEncoder enc = BiEncoder::load(folder, opts(DType::kFloat32, 2));
    EXPECT_EQ(enc.pooling(), std::string(m.name).substr(0, std::string(m.name).find('/')));
    const Matrix got = enc.embed(texts, prompt);
    const auto expected = ref["modes"][m.name].get<std::vector<std::vector<double>>>();
    ASSERT_EQ(got.cols, expected[0].size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      EXPECT_LT(max_abs_diff(got.row(i), expected[i]), 1e-4) << texts[i];
    }
  }
  EXPECT_EQ(BiEncoder::load(folder).prompt_token_count(prompt),
            ref["prompt_length"].get<std::size_t>());
}

TEST(BiEncoder, FolderWithoutSentenceTransformersFilesUsesMeanPooling) {
  test::TempDir dir;
  const auto folder = test::copy_fixture("embedder-mean", dir / "m");
  for (const char* f :
       {"modules.json", "sentence_bert_config.json", "config_sentence_transformers.json"}) {
    std::filesystem::remove(folder / f);
  }
  std::filesystem::remove_all(folder / "1_Pooling");
  const BiEncoder enc = BiEncoder::load(folder, opts(DType::kFloat32));
  EXPECT_EQ(enc.pooling(), "mean");
  EXPECT_FALSE(enc.normalizes());
  EXPECT_EQ(enc.max_seq_length(), 512u);  // tokenizer_config.json's model_max_length
  EXPECT_TRUE(enc.prompts().empty());
}

}  // namespace
}  // namespace skillmatch
