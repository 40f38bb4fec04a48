// Fused CPU kernels where libtorch 1.13 is slow: its bfloat16 LayerNorm rounds every element
// to bfloat16 in a scalar loop (9 ms for a [2048, 768] tensor on two cores, measured, against
// 0.5 ms for float32), which made LayerNorm a quarter of a bfloat16 forward pass.
#pragma once

#include <ATen/ATen.h>

namespace skillmatch {

// LayerNorm(a + b) over the last dimension, for contiguous bfloat16 tensors a and b of shape
// [N, H]; `weight` and `bias` are float32 [H]. Sums, mean and variance are computed in float32;
// the result is rounded to bfloat16 (nearest even). Returns a new [N, H] bfloat16 tensor.
at::Tensor add_layer_norm_bf16(const at::Tensor& a, const at::Tensor& b, const at::Tensor& weight,
                               const at::Tensor& bias, double eps);

// softmax(scale * scores + mask) over the last dimension, in place. `scores` is a contiguous
// [B, heads, Lq, Lk] float32 or bfloat16 tensor; `mask` is [B, Lk] int64 (0 = a key of padding,
// whose weight becomes exactly 0) or undefined (no padding). Computed in float32 (libtorch 1.13's
// bfloat16 softmax plus the separate scale and mask passes took 0.8 ms for 32 x 12 x 52 x 52 on
// two cores, measured). A row whose keys are all masked is left as zeros.
void scaled_masked_softmax_(at::Tensor& scores, double scale, const at::Tensor& mask);

// A float32 tensor rounded to bfloat16 (nearest even), like Tensor::to(kBFloat16) but
// vectorised: libtorch 1.13 converts element by element (measured 60x slower).
at::Tensor float_to_bfloat16(const at::Tensor& t);

}  // namespace skillmatch
