// Grouping sequences into batches by length, so that each batch pads only to its own longest.
#pragma once

#include <cstddef>
#include <vector>

namespace skillmatch {

// Splits indices 0..lengths.size()-1 into batches, longest sequences first (ties keep input
// order), each with at most `batch_size` sequences and at most `max_batch_tokens` padded tokens
// (count x longest; a single sequence longer than that still forms its own batch).
std::vector<std::vector<std::size_t>> plan_batches(const std::vector<std::size_t>& lengths,
                                                   std::size_t batch_size,
                                                   std::size_t max_batch_tokens);

}  // namespace skillmatch
