// `pull` against a local HTTP server that imitates the Hub: the model-info API, resolve URLs
// with ETags and sizes, Range requests, and a transfer that breaks off half-way.
#include "skillmatch/hub/hub_download.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "fake_hub.h"
#include "skillmatch/core/error.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/model/bi_encoder.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;

using test::FakeHub;
using test::kCommit;

TEST(HubDownload, PullsIntoTheHubCacheLayoutAndResumes) {
  FakeHub hub(test::fixtures() / "embedder-cls");
  test::TempDir cache;
  PullOptions o;
  o.endpoint = hub.url();
  o.cache = cache.path();
  hub.breaks_left = 1;
  // The first attempt breaks off in the middle of the weights.
  EXPECT_THROW(pull_model("org/tiny", o), Error);
  const fs::path blobs = cache / "models--org--tiny" / "blobs";
  std::size_t partial = 0;
  for (auto& e : fs::directory_iterator(blobs)) {
    partial += e.path().extension() == ".incomplete";
  }
  EXPECT_EQ(partial, 1u);

  // The second attempt continues with a Range request and completes.
  const PullResult r = pull_model("org/tiny", o);
  EXPECT_GE(hub.range_requests.load(), 1);
  EXPECT_EQ(r.commit, kCommit);
  EXPECT_EQ(r.snapshot, cache / "models--org--tiny" / "snapshots" / kCommit);
  EXPECT_TRUE(fs::is_symlink(r.snapshot / "model.safetensors"));
  EXPECT_EQ(test::slurp(r.snapshot / "model.safetensors"),
            test::slurp(test::fixtures() / "embedder-cls" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(r.snapshot / "1_Pooling" / "config.json"));
  EXPECT_FALSE(fs::exists(r.snapshot / "README.md"));
  EXPECT_EQ(test::slurp(cache / "models--org--tiny" / "refs" / "main"), kCommit);

  // The pulled folder loads and is found by its Hub id.
  ::setenv("HF_HUB_CACHE", cache.path().c_str(), 1);
  const fs::path found = resolve_model("org/tiny");
  ::unsetenv("HF_HUB_CACHE");
  EXPECT_EQ(found, r.snapshot);
  const BiEncoder enc = BiEncoder::load(found);
  EXPECT_EQ(enc.dimension(), 32u);

  // A download that completed but was not renamed (killed in between) is taken as it is.
  for (auto& e : fs::directory_iterator(blobs)) {
    if (fs::file_size(e.path()) ==
        fs::file_size(test::fixtures() / "embedder-cls" / "model.safetensors")) {
      fs::rename(e.path(), e.path().string() + ".incomplete");
    }
  }
  EXPECT_EQ(pull_model("org/tiny", o).bytes_downloaded, 0u);

  // A third pull finds everything in the cache and downloads nothing.
  const int gets = hub.weight_gets;
  const PullResult again = pull_model("org/tiny", o);
  EXPECT_EQ(again.bytes_downloaded, 0u);
  EXPECT_EQ(hub.weight_gets.load(), gets);
}

TEST(HubDownload, UnknownModelAndBadIds) {
  FakeHub hub(test::fixtures() / "embedder-cls");
  test::TempDir cache;
  PullOptions o;
  o.endpoint = hub.url();
  o.cache = cache.path();
  test::expect_error([&] { pull_model("org/missing", o); }, ErrorKind::kNotFound,
                     {"org/missing", "not found"});
  test::expect_error([&] { pull_model("no-slash", o); }, ErrorKind::kInvalidArgument,
                     {"not a Hub id"});
  test::expect_error([&] { pull_model("a/../b", o); }, ErrorKind::kInvalidArgument,
                     {"not a Hub id"});
  o.endpoint = "http://127.0.0.1:1";  // nothing listens there
  test::expect_error([&] { pull_model("org/tiny", o); }, ErrorKind::kIo, {"org/tiny"});
}

}  // namespace
}  // namespace skillmatch
