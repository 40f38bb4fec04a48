// The safetensors reader and the weight loader: valid files in every float dtype, and every way a
// file can be truncated or lie about its content.
#include "skillmatch/model/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "model/torch_checkpoint.h"
#include "model/weights.h"
#include "skillmatch/core/error.h"
#include "test_util.h"

namespace skillmatch {
namespace {

// Writes a safetensors file from a header object and raw data bytes.
void write_safetensors(const std::filesystem::path& path, const nlohmann::json& header,
                       const std::string& data) {
  const std::string h = header.dump();
  std::string out(8, '\0');
  std::uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  out += h + data;
  test::spit(path, out);
}

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

TEST(Safetensors, ReadsTensorsAndMetadata) {
  test::TempDir dir;
  nlohmann::json h = {
      {"__metadata__", {{"format", "pt"}}},
      {"a", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}}},
      {"b", {{"dtype", "F16"}, {"shape", {2}}, {"data_offsets", {16, 20}}}},
      {"c", {{"dtype", "BF16"}, {"shape", {2}}, {"data_offsets", {20, 24}}}},
  };
  // F16 1.0 = 0x3C00, -2.0 = 0xC000; BF16 1.5 = 0x3FC0, -0.5 = 0xBF00 (little-endian).
  std::string data = floats({1, 2, 3, 4}) + std::string("\x00\x3C\x00\xC0", 4) +
                     std::string("\xC0\x3F\x00\xBF", 4);
  write_safetensors(dir / "m.safetensors", h, data);
  const auto f = SafetensorsFile::open(dir / "m.safetensors");
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const TensorInfo* a = f.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(a->dtype, TensorDType::kF32);
  EXPECT_EQ(f.find("zzz"), nullptr);

  // The weight loader converts every float dtype to the compute type.
  std::filesystem::rename(dir / "m.safetensors", dir / "model.safetensors");
  const auto w = WeightSource::open(dir.path(), "a");
  EXPECT_EQ(w.prefix(), "");
  auto ta = w.get("a", {2, 2}, at::kFloat);
  EXPECT_FLOAT_EQ(ta[1][1].item<float>(), 4.0f);
  auto tb = w.get("b", {2}, at::kFloat);
  EXPECT_FLOAT_EQ(tb[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(tb[1].item<float>(), -2.0f);
  auto tc = w.get("c", {2}, at::kFloat);
  EXPECT_FLOAT_EQ(tc[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(tc[1].item<float>(), -0.5f);
  EXPECT_EQ(w.get("a", {2, 2}, at::kBFloat16).scalar_type(), at::kBFloat16);
  test::expect_error([&] { w.get("a", {4}, at::kFloat); }, ErrorKind::kCorrupt,
                     {"model.safetensors", "tensor a", "[2, 2]", "expected [4]"});
  test::expect_error([&] { w.get("nope", {1}, at::kFloat); }, ErrorKind::kNotFound, {"nope"});
}

struct BadCase {
  const char* name;
  std::string bytes;  // the whole file
  std::vector<std::string> message;
};

std::string file_bytes(const nlohmann::json& header, const std::string& data) {
  const std::string h = header.dump();
  std::string out(8, '\0');
  std::uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}

TEST(Safetensors, RejectsCorruptFilesNamingTheProblem) {
  const auto entry = [](const char* dt, std::vector<int> shape, std::size_t b, std::size_t e) {
    return nlohmann::json{{"dtype", dt}, {"shape", shape}, {"data_offsets", {b, e}}};
  };
  const std::string good = file_bytes({{"w", entry("F32", {2, 2}, 0, 16)}}, floats({1, 2, 3, 4}));
  std::string huge_len = good;
  std::uint64_t big = 1ull << 40;
  std::memcpy(huge_len.data(), &big, 8);

  const std::vector<BadCase> cases = {
      {"empty file", "", {"truncated"}},
      {"shorter than its header length", good.substr(0, 20), {"header"}},
      {"truncated data", good.substr(0, good.size() - 4), {"tensor w"}},
      {"header length past the end", huge_len, {"header"}},
      {"header is not JSON", file_bytes(nlohmann::json("x"), "").replace(8, 3, "{{{"), {"JSON"}},
      {"unknown dtype",
       file_bytes({{"w", entry("F99", {1}, 0, 4)}}, floats({1})),
       {"tensor w", "dtype"}},
      {"byte size disagrees with shape",
       file_bytes({{"w", entry("F32", {3}, 0, 8)}}, floats({1, 2})),
       {"tensor w"}},
      {"negative dimension",
       file_bytes({{"w", {{"dtype", "F32"}, {"shape", {-1}}, {"data_offsets", {0, 4}}}}},
                  floats({1})),
       {"tensor w"}},
      {"overlapping tensors",
       file_bytes({{"a", entry("F32", {2}, 0, 8)}, {"b", entry("F32", {2}, 4, 12)}},
                  floats({1, 2, 3})),
       {"overlap"}},
      {"offsets reversed", file_bytes({{"w", entry("F32", {1}, 4, 0)}}, floats({1})), {"tensor w"}},
      {"entry is not an object", file_bytes({{"w", 3}}, ""), {"tensor w"}},
  };
  test::TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir / "model.safetensors";
    test::spit(path, c.bytes);
    auto parts = c.message;
    parts.push_back("model.safetensors");
    test::expect_error([&] { SafetensorsFile::open(path); }, ErrorKind::kCorrupt, parts);
  }
}

TEST(Safetensors, MissingFileIsNotFound) {
  test::TempDir dir;
  test::expect_error([&] { SafetensorsFile::open(dir / "model.safetensors"); },
                     ErrorKind::kNotFound, {"model.safetensors"});
}

TEST(Weights, DetectsRobertaPrefixOrNone) {
  const auto plain =
      WeightSource::open(test::fixtures() / "embedder-cls", "embeddings.word_embeddings.weight");
  EXPECT_EQ(plain.prefix(), "");
  const auto prefixed =
      WeightSource::open(test::fixtures() / "reranker", "embeddings.word_embeddings.weight");
  EXPECT_EQ(prefixed.prefix(), "roberta.");
  EXPECT_TRUE(prefixed.unprefixed().has("classifier.dense.weight"));
  EXPECT_FALSE(prefixed.has("classifier.dense.weight"));
}

TEST(Weights, LoadsPytorchModelBin) {
  test::TempDir dir;
  std::filesystem::copy_file(test::test_data() / "pytorch_model.bin", dir / "pytorch_model.bin");
  const auto bin = WeightSource::open(dir.path(), "embeddings.word_embeddings.weight");
  const auto st =
      WeightSource::open(test::fixtures() / "embedder-cls", "embeddings.word_embeddings.weight");
  EXPECT_NE(bin.file().find("pytorch_model.bin"), std::string::npos);
  const std::vector<std::int64_t> shape = {4002, 32};
  EXPECT_TRUE(at::equal(bin.get("embeddings.word_embeddings.weight", shape, at::kFloat),
                        st.get("embeddings.word_embeddings.weight", shape, at::kFloat)));
}

TEST(Weights, UnreadablePytorchModelBinSaysSo) {
  test::TempDir dir;
  test::spit(dir / "pytorch_model.bin", "not a zip archive at all");
  test::expect_error([&] { WeightSource::open(dir.path(), "x"); }, ErrorKind::kUnsupported,
                     {"pytorch_model.bin", "model.safetensors"});
}

// The checks made before libtorch unpickles a checkpoint (found by fuzzing: libtorch allocated
// the 1.9 GB a damaged string length asked for, and gave a storage the size its pickle claimed
// over a record of 32 bytes, so that reading the tensor ran past the buffer). The whole-file
// cases are inputs of fuzz/regressions/pytorch_bin, replayed by ctest.
template <std::size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

TEST(Weights, PickleIsCheckedBeforeLibtorchSeesIt) {
  // ('storage', torch.FloatStorage, '0', 'cpu', 8) as torch.save writes it, then STOP.
  const std::string storage = bytes(
      "\x80\x02(X\x07\x00\x00\x00"
      "storageq\x00"
      "ctorch\nFloatStorage\nq\x01X\x01\x00\x00\x00"
      "0q\x02X\x03\x00\x00\x00"
      "cpuq\x03K\x08tq\x04Q.");
  const std::vector<PickledStorage> s = check_pickle(storage, "p");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "0");
  EXPECT_EQ(s[0].type, "FloatStorage");
  EXPECT_EQ(s[0].numel, 8);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {bytes("\x80\x02X\x00\x00\x00\x70."), "ends before the data"},
      {"\x80\x02}q\x05.", "memo index 5 out of order"},
      {bytes("\x80\x02h\x00."), "memo index 0 was never set"},
      {"\x80\x02\xff.", "unknown opcode 0xff"},
      {"\x80\x02}", "ends before the data of this opcode (no STOP?)"},
      {"\x80\x02R.", "the stack has no value"},
      {"\x80\x02(K\x01K\x02tQ.", "a persistent id is not ('storage'"},
  };
  for (const auto& [pickle, message] : bad) {
    test::expect_error([&] { check_pickle(pickle, "p"); }, ErrorKind::kCorrupt,
                       {"p: damaged pickle at byte", message});
  }
  // _rebuild_tensor_v2(storage of 8 floats, offset, (4, 2), (2, 1), False): libtorch sets the
  // view unchecked, so offset 43 read past the record (found by fuzz_pytorch_bin).
  auto rebuild = [&](const std::string& offset) {
    return bytes(
               "\x80\x02"
               "ctorch._utils\n_rebuild_tensor_v2\n(") +
           storage.substr(2, storage.size() - 3) + offset +
           bytes("K\x04K\x02\x86K\x02K\x01\x86\x89tR.");
  };
  EXPECT_EQ(check_pickle(rebuild(bytes("K\x00")), "p").size(), 1u);
  test::expect_error([&] { check_pickle(rebuild(bytes("K\x2b")), "p"); }, ErrorKind::kCorrupt,
                     {"a tensor reaches past the 8 elements of its storage"});
  test::expect_error(
      [&] {
        check_pickle(bytes("\x80\x02"
                           "ctorch\nsecret\n."),
                     "p");
      },
      ErrorKind::kUnsupported, {"the global torch secret is not part of a state dict of tensors"});
}

TEST(Weights, FolderWithoutWeightsOrWithShards) {
  test::TempDir dir;
  test::expect_error([&] { WeightSource::open(dir.path(), "x"); }, ErrorKind::kNotFound,
                     {"no model.safetensors or pytorch_model.bin"});
  test::spit(dir / "model.safetensors.index.json", "{}");
  test::expect_error([&] { WeightSource::open(dir.path(), "x"); }, ErrorKind::kUnsupported,
                     {"sharded"});
}

}  // namespace
}  // namespace skillmatch
