// Options shared by the bi-encoder and the cross-encoder.
#pragma once

#include <cstddef>

#include "skillmatch/model/runtime.h"

namespace skillmatch {

struct InferenceOptions {
  DType dtype = DType::kAuto;
  // Sequences per forward pass. Inputs are sorted by token count first, so each batch pads only
  // to its own longest sequence; results do not depend on this value.
  std::size_t batch_size = 32;
  // Upper bound of batch size x padded length, to bound the attention matrices' memory.
  std::size_t max_batch_tokens = 16384;
};

}  // namespace skillmatch
