#include "model/batching.h"

#include <algorithm>
#include <numeric>

#include "skillmatch/core/error.h"

namespace skillmatch {

std::vector<std::vector<std::size_t>> plan_batches(const std::vector<std::size_t>& lengths,
                                                   std::size_t batch_size,
                                                   std::size_t max_batch_tokens) {
  SM_CHECK(batch_size > 0, ErrorKind::kInvalidArgument, "batch size must be at least 1");
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<std::size_t>> batches;
  std::size_t i = 0;
  while (i < order.size()) {
    const std::size_t longest = std::max<std::size_t>(lengths[order[i]], 1);
    std::vector<std::size_t> batch{order[i++]};
    while (i < order.size() && batch.size() < batch_size &&
           (batch.size() + 1) * longest <= max_batch_tokens) {
      batch.push_back(order[i++]);
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace skillmatch
