// sentence-transformers' Pooling (and Normalize) module on libtorch tensors, shared by inference
// (BiEncoder) and training (src/train): the same ops, so that a trained model pools exactly as
// it is used. Differentiable: autograd flows through every mode.
#pragma once

#include <cstddef>

#include <ATen/ATen.h>

#include "skillmatch/model/model_folder.h"

namespace skillmatch {

// [B, H * modes] sentence embeddings in the dtype of `hidden` ([B, L, H]). `mask` is [B, L]
// int64 (1 for real tokens). With include_prompt = false, the first `prompt_length` positions
// are left out of the pooling as sentence-transformers does. `normalize`: L2-normalise (the
// Normalize module).
at::Tensor pool_embeddings(const at::Tensor& hidden, const at::Tensor& mask,
                           const PoolingConfig& pooling, std::size_t prompt_length, bool normalize);

}  // namespace skillmatch
