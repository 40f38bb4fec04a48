// The weight cache: a model loaded from it gives bit-identical results; a stale, truncated or
// malformed cache file is never used (and is replaced); an unwritable cache directory only costs
// time. The fixtures are tiny, so the tests lower the size threshold to 0.
#include "model/weight_cache.h"

#include "model/linear.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "skillmatch/core/cpu.h"
#include "skillmatch/core/error.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::fixtures;
using test::TempDir;

InferenceOptions cached(const fs::path& dir, DType dtype) {
  InferenceOptions o;
  o.dtype = dtype;
  o.weight_cache = dir.string();
  o.weight_cache_min_bytes = 0;
  return o;
}

InferenceOptions uncached(DType dtype) {
  InferenceOptions o;
  o.dtype = dtype;
  o.weight_cache = "off";
  return o;
}

std::vector<fs::path> cache_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
  return out;
}

const std::vector<std::string> kTexts = {
    "Grundlagen der Buchhaltung", "Excel für Fortgeschrittene: Pivot-Tabellen und Makros", "a"};

std::vector<DType> dtypes() {
  std::vector<DType> d = {DType::kFloat32, DType::kBFloat16};
  if (cpu_has_int8_dot()) d.push_back(DType::kInt8);
  return d;
}

TEST(WeightCache, ModelsFromTheCacheGiveBitIdenticalResults) {
  TempDir dir;
  const fs::path cache = dir / "cache";
  for (DType dtype : dtypes()) {
    const Matrix ref = BiEncoder::load(fixtures() / "embedder-mean", uncached(dtype)).embed(kTexts);
    const Matrix first =
        BiEncoder::load(fixtures() / "embedder-mean", cached(cache, dtype)).embed(kTexts);
    const std::size_t files = cache_files(cache).size();
    const Matrix again =
        BiEncoder::load(fixtures() / "embedder-mean", cached(cache, dtype)).embed(kTexts);
    EXPECT_EQ(first.data, ref.data) << dtype_name(dtype);
    EXPECT_EQ(again.data, ref.data) << dtype_name(dtype);
    EXPECT_EQ(cache_files(cache).size(), files) << "the second load wrote no new file";

    const std::vector<TextPair> pairs = {{"Buchhaltung", "Konten führen"}, {"Excel", "Schafe"}};
    const auto s_ref = CrossEncoder::load(fixtures() / "reranker", uncached(dtype)).score(pairs);
    CrossEncoder::load(fixtures() / "reranker", cached(cache, dtype));
    const auto s = CrossEncoder::load(fixtures() / "reranker", cached(cache, dtype)).score(pairs);
    EXPECT_EQ(s, s_ref) << dtype_name(dtype);
  }
  // One file per model and number type.
  EXPECT_EQ(cache_files(cache).size(), 2 * dtypes().size());
}

// The single cache file of `dir`.
fs::path only_file(const fs::path& dir) {
  const auto files = cache_files(dir);
  EXPECT_EQ(files.size(), 1u);
  return files.empty() ? fs::path() : files[0];
}

TEST(WeightCache, TheCacheIsWhatLoadsAndAStaleOneIsNot) {
  TempDir dir;
  const fs::path model = test::copy_fixture("embedder-mean", dir / "model");
  const fs::path cache = dir / "cache";
  const InferenceOptions o = cached(cache, DType::kFloat32);
  const Matrix ref = BiEncoder::load(model, o).embed(kTexts);
  const fs::path file = only_file(cache);
  // Zero a cached, packed weight matrix in place (sizes unchanged): a load that now gives other
  // numbers proves the layers come from the cache (its content is trusted once its identity
  // matches; the identity is what guards against stale files).
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    char head[16];
    f.read(head, 16);
    std::uint64_t len = 0;
    std::memcpy(&len, head + 8, 8);
    std::string header(len, '\0');
    f.read(header.data(), static_cast<std::streamsize>(len));
    const auto blob = nlohmann::json::parse(header)["blobs"]["encoder.layer.0.output.dense.w"];
    const std::string zeros(blob[1].get<std::size_t>(), '\0');
    f.seekp(static_cast<std::streamoff>(blob[0].get<std::size_t>()));
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  const Matrix damaged = BiEncoder::load(model, o).embed(kTexts);
  EXPECT_NE(damaged.data, ref.data);

  // A changed weight file (new modification time) makes the cache stale: a new file is written
  // and the results are those of the weights.
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ::utimensat(AT_FDCWD, (model / "model.safetensors").c_str(), times, 0);
  const Matrix fresh = BiEncoder::load(model, o).embed(kTexts);
  EXPECT_EQ(fresh.data, ref.data);
  // The new file replaced the old one (same source and number type): no stale file piles up.
  ASSERT_EQ(cache_files(cache).size(), 1u);
  EXPECT_NE(cache_files(cache)[0], file);
}

TEST(WeightCache, TruncatedOrMalformedFilesAreReplaced) {
  TempDir dir;
  const fs::path cache = dir / "cache";
  const InferenceOptions o = cached(cache, DType::kFloat32);
  const Matrix ref = BiEncoder::load(fixtures() / "embedder-mean", o).embed(kTexts);
  const fs::path file = only_file(cache);
  const auto size = fs::file_size(file);
  for (const std::string damage : {"truncate-blobs", "truncate-header", "garbage", "empty"}) {
    if (damage == "truncate-blobs") fs::resize_file(file, size / 2);
    if (damage == "truncate-header") fs::resize_file(file, 20);
    if (damage == "garbage") test::spit(file, std::string(size, 'x'));
    if (damage == "empty") test::spit(file, "");
    const Matrix m = BiEncoder::load(fixtures() / "embedder-mean", o).embed(kTexts);
    EXPECT_EQ(m.data, ref.data) << damage;
    EXPECT_EQ(fs::file_size(file), size) << damage << ": the file was written again";
    EXPECT_EQ(test::slurp(file).substr(0, 8), "SMWCACHE") << damage;
  }
}

TEST(WeightCache, AnUnwritableDirectoryOnlyCostsTime) {
  TempDir dir;
  test::spit(dir / "file", "a file where the cache directory would go");  // even root fails
  const InferenceOptions o = cached(dir / "file" / "cache", DType::kFloat32);
  const Matrix m = BiEncoder::load(fixtures() / "embedder-mean", o).embed(kTexts);
  const Matrix ref =
      BiEncoder::load(fixtures() / "embedder-mean", uncached(DType::kFloat32)).embed(kTexts);
  EXPECT_EQ(m.data, ref.data);
}

TEST(WeightCache, PackedLayersRoundTripAtShapesWithPadding) {
  // K and N that are not multiples of the kernels' blocks (16, 64): the packed layout has padding,
  // which oneDNN zeroes when it wraps the weights; from a cache file that is a write to the
  // mapping, which must stay private (copy-on-write) and must not crash.
  TempDir dir;
  at::manual_seed(21);
  std::vector<LinearKind> kinds = {LinearKind::kFloat32, LinearKind::kBFloat16};
  if (cpu_has_int8_dot()) kinds.push_back(LinearKind::kInt8);
  for (LinearKind kind : kinds) {
    const at::Tensor w = at::randn({50, 37}) * 0.1, b = at::randn({50});
    const PackedLinear lin(w, b, kind, true);
    const fs::path file = dir / ("k" + std::to_string(static_cast<int>(kind)) + ".smw");
    WeightCacheWriter writer;
    lin.save(writer, "layer");
    writer.write(file, "id");
    const std::string before = test::slurp(file);
    std::string why;
    auto cache = WeightCache::open(file, "id", &why);
    ASSERT_TRUE(cache) << why;
    const PackedLinear back = PackedLinear::load(*cache, "layer", 50, 37, kind, true);
    const at::Tensor x =
        at::randn({9, 37}).to(kind == LinearKind::kFloat32 ? at::kFloat : at::kBFloat16);
    EXPECT_TRUE(at::equal(back.forward(x), lin.forward(x))) << static_cast<int>(kind);
    EXPECT_EQ(test::slurp(file), before) << "the cache file itself never changes";
    test::expect_error([&] { PackedLinear::load(*cache, "layer", 50, 38, kind, true); },
                       ErrorKind::kCorrupt, {"layer"});
  }
}

TEST(WeightCache, FileFormatRoundTripsAndChecksItsIdentity) {
  TempDir dir;
  const fs::path file = dir / "c.smw";
  const at::Tensor a = at::arange(10, at::kFloat), b = at::arange(7000, at::kInt);
  WeightCacheWriter w;
  w.add("a", a);
  w.add("b", b);
  w.write(file, "id-1");
  std::string why;
  auto c = WeightCache::open(file, "id-1", &why);
  ASSERT_TRUE(c) << why;
  EXPECT_TRUE(at::equal(c->tensor("a", {10}, at::kFloat), a));
  EXPECT_TRUE(at::equal(c->tensor("b", {70, 100}, at::kInt), b.view({70, 100})));
  test::expect_error([&] { c->tensor("a", {11}, at::kFloat); }, ErrorKind::kCorrupt,
                     {"c.smw", "a"});
  test::expect_error([&] { c->tensor("z", {1}, at::kFloat); }, ErrorKind::kCorrupt, {"z"});
  EXPECT_FALSE(WeightCache::open(file, "id-2", &why));
  EXPECT_NE(why.find("stale"), std::string::npos) << why;
  EXPECT_FALSE(WeightCache::open(dir / "none.smw", "id-1", &why));
  EXPECT_EQ(why, "absent");
  fs::resize_file(file, fs::file_size(file) - 1);
  EXPECT_FALSE(WeightCache::open(file, "id-1", &why));
  EXPECT_NE(why.find("corrupt"), std::string::npos) << why;
}

}  // namespace
}  // namespace skillmatch
