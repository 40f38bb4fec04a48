// ModelFolder: reading a Hugging Face folder in one place, and writing one that loads back to
// identical outputs here and in the float64 reference of the fixture generator.
#include "skillmatch/model/model_folder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::fixtures;

InferenceOptions f32() {
  InferenceOptions o;
  o.dtype = DType::kFloat32;
  return o;
}

// Writes the folder `from` anew at `out` from what ModelFolder read and the weights of its file.
fs::path round_trip(const fs::path& from, const fs::path& out) {
  const ModelFolder mf = ModelFolder::read(from);
  const SafetensorsFile weights = SafetensorsFile::open(*mf.weights_file());
  write_model_folder(out, mf, weight_tensors(weights));
  return out;
}

int run_python_check(const fs::path& folder, const std::string& expected, const std::string& key) {
  const std::string cmd = std::string(SKILLMATCH_PYTHON) + " " + SKILLMATCH_TEST_TOOLS +
                          "/check_model_folder.py '" + folder.string() + "' '" +
                          (fixtures() / "expected" / expected).string() + "' " + key;
  return std::system(cmd.c_str());
}

TEST(ModelFolder, ReadsEverySentenceTransformersFile) {
  const ModelFolder cls = ModelFolder::read(fixtures() / "embedder-cls");
  EXPECT_TRUE(cls.has_config());
  EXPECT_EQ(cls.kind(), ModelKind::kBiEncoder);
  const SentenceTransformersConfig& st = cls.sentence_transformers();
  EXPECT_TRUE(st.present);
  EXPECT_TRUE(st.normalize);
  ASSERT_EQ(st.pooling.modes.size(), 1u);
  EXPECT_EQ(st.pooling.modes[0], PoolMode::kCls);
  EXPECT_EQ(st.prompts.at("query"), "query: ");
  EXPECT_EQ(st.max_seq_length, 512u);
  EXPECT_EQ(*cls.weights_file(), fixtures() / "embedder-cls" / "model.safetensors");
  EXPECT_EQ(ModelFolder::read(fixtures() / "embedder-mean").sentence_transformers().max_seq_length,
            128u);
  const ModelFolder rr = ModelFolder::read(fixtures() / "reranker");
  EXPECT_EQ(rr.kind(), ModelKind::kCrossEncoder);
  EXPECT_FALSE(rr.sentence_transformers().present);
  EXPECT_EQ(rr.tokenizer_max_length(), 512u);
  // A folder with only tokenizer files.
  const ModelFolder tok = ModelFolder::read(fixtures() / "tokenizer");
  EXPECT_FALSE(tok.has_config());
  EXPECT_EQ(tok.load_tokenizer().vocab_size(), 4002);
  test::expect_error([&] { tok.config(); }, ErrorKind::kNotFound, {"config.json"});
  test::TempDir empty;
  test::expect_error([&] { ModelFolder::read(empty.path()); }, ErrorKind::kNotFound,
                     {"is not a model folder"});
  test::expect_error([&] { ModelFolder::read(fixtures() / "README.md"); },
                     ErrorKind::kInvalidArgument, {"README.md is not a directory"});
}

TEST(ModelFolder, WrittenBiEncodersGiveIdenticalEmbeddings) {
  test::TempDir dir;
  const auto expected = test::load_json(fixtures() / "expected" / "embed.json");
  for (const std::string name : {"embedder-cls", "embedder-mean"}) {
    const fs::path out = round_trip(fixtures() / name, dir / name);
    for (const char* f :
         {"config.json", "model.safetensors", "sentencepiece.bpe.model", "tokenizer_config.json",
          "special_tokens_map.json", "modules.json", "1_Pooling/config.json",
          "sentence_bert_config.json", "config_sentence_transformers.json"}) {
      EXPECT_TRUE(fs::exists(out / f)) << name << ": " << f;
    }
    const ModelFolder back = ModelFolder::read(out);
    const ModelFolder orig = ModelFolder::read(fixtures() / name);
    EXPECT_EQ(back.documents().config, orig.documents().config);
    EXPECT_EQ(back.documents().pooling, orig.documents().pooling);
    EXPECT_EQ(back.sentence_transformers().prompts, orig.sentence_transformers().prompts);
    EXPECT_EQ(back.sentence_transformers().max_seq_length,
              orig.sentence_transformers().max_seq_length);
    const BiEncoder a = BiEncoder::load(fixtures() / name, f32());
    const BiEncoder b = BiEncoder::load(out, f32());
    for (const auto& c : expected[name]["cases"]) {
      const std::string text = c["text"], prompt = c["prompt"];
      EXPECT_EQ(b.tokenize({text}, prompt)[0], c["ids"].get<TokenIds>());
      EXPECT_EQ(a.embed({text}, prompt).data, b.embed({text}, prompt).data) << name;
    }
    EXPECT_EQ(run_python_check(out, "embed.json", name), 0) << name;
    // A written folder written again gives the same bytes, file for file.
    const fs::path again = round_trip(out, dir / (name + "-again"));
    for (const auto& e : fs::recursive_directory_iterator(out)) {
      if (!e.is_regular_file()) continue;
      const fs::path rel = fs::relative(e.path(), out);
      EXPECT_EQ(test::slurp(e.path()), test::slurp(again / rel)) << name << ": " << rel;
    }
  }
}

TEST(ModelFolder, WrittenCrossEncoderGivesIdenticalScores) {
  test::TempDir dir;
  const fs::path out = round_trip(fixtures() / "reranker", dir / "reranker");
  EXPECT_FALSE(fs::exists(out / "modules.json"));
  const CrossEncoder a = CrossEncoder::load(fixtures() / "reranker", f32());
  const CrossEncoder b = CrossEncoder::load(out, f32());
  std::vector<TextPair> pairs;
  // The document must outlive the loop (a temporary's member would be destroyed before it).
  const auto expected = test::load_json(fixtures() / "expected" / "rerank.json");
  for (const auto& c : expected["cases"]) {
    pairs.push_back({c["query"], c["passage"]});
  }
  EXPECT_EQ(a.score(pairs), b.score(pairs));
  EXPECT_EQ(run_python_check(out, "rerank_flagembedding.json", "-"), 0);
}

TEST(ModelFolder, WritingReplacesAWholeFolderOrNothing) {
  test::TempDir dir;
  const fs::path out = round_trip(fixtures() / "embedder-mean", dir / "model");
  const std::string config = test::slurp(out / "config.json");
  // A failing write (a tensor whose bytes do not fit its shape) leaves the old folder as it was
  // and nothing beside it.
  const ModelFolder mf = ModelFolder::read(fixtures() / "embedder-cls");
  const float one = 1;
  test::expect_error(
      [&] {
        write_model_folder(out, mf, {{"x", TensorDType::kF32, {2}, &one, sizeof one}});
      },
      ErrorKind::kInvalidArgument, {"tensor x", "needs 8 bytes, got 4"});
  EXPECT_EQ(test::slurp(out / "config.json"), config);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
  // A successful write replaces it.
  round_trip(fixtures() / "embedder-cls", out);
  EXPECT_EQ(ModelFolder::read(out).sentence_transformers().pooling.modes[0], PoolMode::kCls);
  entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(ModelFolder, SafetensorsWriterRoundTrips) {
  test::TempDir dir;
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  const std::vector<std::uint16_t> b = {0x3f80, 0x4000};
  write_safetensors(dir / "t.safetensors", {{"w", TensorDType::kF32, {2, 3}, a.data(), 24},
                                            {"b", TensorDType::kBF16, {2}, b.data(), 4}});
  const SafetensorsFile f = SafetensorsFile::open(dir / "t.safetensors");
  ASSERT_EQ(f.tensors().size(), 2u);
  const TensorInfo* w = f.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f.data(*w), a.data(), 24), 0);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.data(*f.find("b"))) % 8, 0u);
  test::expect_error(
      [&] {
        write_safetensors(dir / "dup.safetensors", {{"w", TensorDType::kF32, {1}, a.data(), 4},
                                                    {"w", TensorDType::kF32, {1}, a.data(), 4}});
      },
      ErrorKind::kInvalidArgument, {"tensor w is given twice"});
  EXPECT_FALSE(fs::exists(dir / "dup.safetensors"));
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

// A folder that has only tokenizer.json (as many Hub repositories do) loads, and the written
// folder gets both tokenizer files, the SentencePiece model made from the JSON one.
TEST(ModelFolder, FolderWithOnlyTokenizerJsonLoadsAndIsWrittenWithBoth) {
  test::TempDir dir;
  const fs::path m = test::copy_fixture("embedder-cls", dir / "m");
  test::spit(m / "tokenizer.json",
             test::slurp(test::test_data() / "tokenizer_json" / "current" / "tokenizer.json"));
  fs::remove(m / "sentencepiece.bpe.model");
  const ModelFolder mf = ModelFolder::read(m);
  EXPECT_EQ(mf.load_tokenizer().source(), TokenizerSource::kTokenizerJson);
  const BiEncoder a = BiEncoder::load(test::fixtures() / "embedder-cls", f32());
  const BiEncoder b = BiEncoder::load(m, f32());
  for (const char* text : {"Einführung in Excel", "Buchhaltung für Einsteiger"}) {
    EXPECT_EQ(a.embed({text}, "query: ").data, b.embed({text}, "query: ").data) << text;
  }
  const SafetensorsFile w = SafetensorsFile::open(*mf.weights_file());
  write_model_folder(dir / "out", mf, weight_tensors(w));
  ASSERT_TRUE(fs::exists(dir / "out" / "sentencepiece.bpe.model"));
  const Tokenizer spm = Tokenizer::load(dir / "out" / "sentencepiece.bpe.model");
  const Tokenizer orig =
      Tokenizer::load(test::fixtures() / "tokenizer" / "sentencepiece.bpe.model");
  for (const char* text : {"Einführung in Excel", "Grundlagen der Buchhaltung: Kontenrahmen"}) {
    EXPECT_EQ(spm.encode(text, 512), orig.encode(text, 512)) << text;
  }
  // The SentencePiece-only fixture gets a tokenizer.json that gives its ids.
  const fs::path out2 = round_trip(test::fixtures() / "embedder-mean", dir / "out2");
  const Tokenizer tj = Tokenizer::load(out2 / "tokenizer.json");
  EXPECT_EQ(tj.source(), TokenizerSource::kTokenizerJson);
  EXPECT_EQ(tj.encode("Grundlagen der Buchhaltung", 512),
            orig.encode("Grundlagen der Buchhaltung", 512));
}

// transformers stores model_max_length 1e30 for "no limit"; a folder without config.json took it
// as a limit and converted it to size_t with undefined behaviour (found by fuzzing). It is no
// limit; and sentence_bert_config.json's max_seq_length must be a whole number too.
TEST(ModelFolder, HugeModelMaxLengthIsNoLimit) {
  test::TempDir dir;
  const fs::path m = dir / "m";
  fs::create_directories(m);
  fs::copy_file(test::fixtures() / "tokenizer" / "sentencepiece.bpe.model",
                m / "sentencepiece.bpe.model");
  test::spit(m / "tokenizer_config.json",
             R"({"model_max_length": 1000000000000000019884624838656})");
  EXPECT_EQ(ModelFolder::read(m).tokenizer_max_length(), 0u);
  test::spit(m / "tokenizer_config.json", R"({"model_max_length": 256})");
  EXPECT_EQ(ModelFolder::read(m).tokenizer_max_length(), 256u);
  test::spit(m / "sentence_bert_config.json", R"({"max_seq_length": 1e300})");
  test::expect_error([&] { ModelFolder::read(m); }, ErrorKind::kCorrupt,
                     {"sentence_bert_config.json: key 'max_seq_length' must be a whole number"});
}

}  // namespace
}  // namespace skillmatch
