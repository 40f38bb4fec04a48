// Options shared by the bi-encoder and the cross-encoder.
#pragma once

#include <cstddef>
#include <string>

#include "skillmatch/model/runtime.h"

namespace skillmatch {

struct InferenceOptions {
  DType dtype = DType::kAuto;
  // Sequences per forward pass. Inputs are sorted by token count first, so each batch pads only
  // to its own longest sequence; results do not depend on this value.
  std::size_t batch_size = 32;
  // Upper bound of batch size x padded length, to bound the attention matrices' memory.
  std::size_t max_batch_tokens = 16384;
  // Where the weights, converted to the compute type and packed for this CPU, are cached and
  // memory-mapped on later loads (a base model then loads in a fraction of a second, and only
  // the word-embedding rows that inputs use are read): empty means $SKILLMATCH_WEIGHT_CACHE, else
  // $XDG_CACHE_HOME/skillmatch/weights, else ~/.cache/skillmatch/weights; "off" disables it.
  // Weight files smaller than weight_cache_min_bytes load fast enough and are not cached. A cache
  // that cannot be written is skipped silently: it only saves time.
  std::string weight_cache;
  std::size_t weight_cache_min_bytes = std::size_t{64} << 20;
};

}  // namespace skillmatch
