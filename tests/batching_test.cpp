#include "model/batching.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

TEST(Batching, SortsLongestFirstAndCoversEveryInputOnce) {
  const std::vector<std::size_t> lengths = {5, 40, 3, 40, 12, 7, 1};
  const auto batches = plan_batches(lengths, 3, 1 << 20);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<std::size_t>{1, 3, 4}));  // ties keep input order
  EXPECT_EQ(batches[1], (std::vector<std::size_t>{5, 0, 2}));
  EXPECT_EQ(batches[2], (std::vector<std::size_t>{6}));
}

TEST(Batching, TokenBudgetLimitsBatchesButNeverDropsALongInput) {
  const std::vector<std::size_t> lengths = {512, 512, 100, 100, 100, 100};
  const auto batches = plan_batches(lengths, 64, 1024);
  // 2 x 512 fits; then 100-token sequences up to 10 per batch, here 4.
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[1].size(), 4u);
  const auto single = plan_batches({5000}, 8, 1024);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0], (std::vector<std::size_t>{0}));
}

TEST(Batching, EmptyInputAndZeroBatchSize) {
  EXPECT_TRUE(plan_batches({}, 8, 100).empty());
  EXPECT_THROW(plan_batches({1}, 0, 100), Error);
}

}  // namespace
}  // namespace skillmatch
