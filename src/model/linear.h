// Linear layers (y = x W^T + b, optionally followed by exact GELU) on oneDNN's matmul with the
// weights packed once, at load, into the blocked layout of the CPU's fastest kernel (brgemm:
// AMX, AVX512-BF16, VNNI or AVX-512). Measured on an AMD EPYC (AVX-512, AVX512-BF16, VNNI) at the
// shapes of an XLM-R base layer and 1,664 tokens, 2 threads: float32 490 GFLOP/s against 175 for
// libtorch's addmm (Debian's libtorch multiplies float32 with a generic BLAS), bfloat16 1,000
// against 860 (libtorch repacks the weights on every call), int8 2,000.
//
// Private to the model layer. Thread-safety: a PackedLinear is immutable after construction;
// forward() may run from any number of threads at once (each call brings its own scratchpad).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "skillmatch/core/cpu.h"  // cpu_has_int8_dot(): kInt8 is refused without it

namespace skillmatch {

class WeightCache;
class WeightCacheWriter;

enum class LinearKind {
  kFloat32,   // float32 weights and activations
  kBFloat16,  // bfloat16 weights and activations, float32 accumulation, bias and GELU
  kInt8,      // int8 weights (symmetric, per output channel), uint8 activations quantised per row
              // at every call (asymmetric: scale and zero point from the row's min and max);
              // int32 accumulation; activations in and out are float32 or bfloat16
};

// Rows quantised for a kInt8 layer by quantize_rows_uint8's rule: q [M, K] uint8, scale [M]
// float32, zero [M] int32.
struct QuantizedRows {
  at::Tensor q, scale, zero;
};

class PackedLinear {
 public:
  // `weight` [N, K] and `bias` [N] are float32 (as stored in a checkpoint; converted here).
  // Throws kUnsupported when the CPU has no kernel for `kind` (int8 without VNNI/AMX).
  PackedLinear(const at::Tensor& weight, const at::Tensor& bias, LinearKind kind, bool gelu);

  // x: [M, K], contiguous. kFloat32 takes float32, kBFloat16 bfloat16, kInt8 either. Returns a new
  // [M, N] tensor of x's dtype. M may be anything from 1 up.
  at::Tensor forward(const at::Tensor& x) const;

  // kInt8 only. From rows already quantised, to a new [M, N] tensor of `out_type` (float32 or
  // bfloat16).
  at::Tensor forward(const QuantizedRows& x, at::ScalarType out_type) const;
  // kInt8 only. Like forward(x), but the output rows are handed on quantised for a next kInt8
  // layer (from their float32 values, before any rounding to bfloat16): no [M, N] activation
  // tensor is written (the FFN's 3,072-wide GELU output).
  QuantizedRows forward_quantized(const at::Tensor& x) const;

  // The packed layer in a weight cache: blobs `name`.w (packed weights), .b (bias), and for int8
  // .ws (weight scales) and .wsum (sums of quantised weight rows). save() keeps references to
  // this layer's tensors in `writer`.
  void save(WeightCacheWriter& writer, const std::string& name) const;
  // The layer saved as `name`, its weights used in place from the mapping. The packed layout is
  // re-derived for this CPU and must have the saved size; throws kCorrupt otherwise.
  static PackedLinear load(const WeightCache& cache, const std::string& name, std::int64_t n,
                           std::int64_t k, LinearKind kind, bool gelu);

  std::int64_t in_features() const noexcept { return k_; }
  std::int64_t out_features() const noexcept { return n_; }
  LinearKind kind() const noexcept { return kind_; }

  struct Packed;  // the packed weights and their oneDNN layout (linear.cpp)

 private:
  PackedLinear() = default;
  // The product of `src` (kind's input type; uint8 for kInt8) with the packed weights: for
  // float kinds with bias and GELU, of dst_options' type; for kInt8 the raw int32 sums.
  at::Tensor matmul(const at::Tensor& src, const at::TensorOptions& dst_options) const;
  std::int64_t k_ = 0, n_ = 0;
  LinearKind kind_ = LinearKind::kFloat32;
  bool gelu_ = false;
  std::shared_ptr<const Packed> packed_;
};

// a @ b for 4-D float32 or bfloat16 tensors of any strides (views such as the transposed heads
// of attention are read in place): a [B, H, M, K], b [B, H, K, N] -> a new contiguous
// [B, H, M, N] of a's dtype, on oneDNN's batched matmul (libtorch's float32 batched product
// goes through a generic BLAS here). Thread-safe.
at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b);

// What the packed layout of a kind depends on besides the weights: the kind, the CPU's features
// and oneDNN's version ("int8 avx512f avx512-vnni ... onednn 2.6.3"), for the weight cache.
std::string packing_variant(LinearKind kind);

// The int8 quantisation of kInt8, exposed for tests and the benchmark.
// quantize_weights_int8: w [N, K] float32 -> q [N, K] int8 with scale[n] = max|w[n,:]| / 127
// (1 for an all-zero row) and q = round(w / scale) (half away from zero), clamped to [-127, 127].
void quantize_weights_int8(const at::Tensor& w, at::Tensor& q, at::Tensor& scale);
// quantize_rows_uint8: x [M, K] float32 or bfloat16 -> q [M, K] uint8 with, per row, lo = min(0,
// min x), hi = max(0, max x), scale = (hi - lo) / 255 (1 when hi == lo), zero = round(-lo /
// scale) and q = clamp(round(x / scale) + zero, 0, 255); scale [M] float32, zero [M] int32.
void quantize_rows_uint8(const at::Tensor& x, at::Tensor& q, at::Tensor& scale, at::Tensor& zero);

}  // namespace skillmatch
