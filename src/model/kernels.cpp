#include "model/kernels.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

inline float bf16_to_float(std::uint16_t v) {
  const std::uint32_t bits = static_cast<std::uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Round to nearest even, as torch does; NaN stays a (quiet) NaN.
inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

// One row. `tmp` holds the float32 sums. The loops are written so that the compiler
// vectorises them (16 independent partial sums, no reassociation needed); target_clones builds
// an AVX-512, an AVX2 and a baseline version and picks one when the program starts.
__attribute__((target_clones("avx512f", "avx2", "default"))) void add_layer_norm_row(
    const std::uint16_t* a, const std::uint16_t* b, const float* w, const float* bias,
    std::uint16_t* out, float* tmp, std::int64_t h, float eps) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= h; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float v = bf16_to_float(a[i + l]) + bf16_to_float(b[i + l]);
      tmp[i + l] = v;
      acc[l] += v;
    }
  }
  float sum = 0;
  for (; i < h; ++i) {
    tmp[i] = bf16_to_float(a[i]) + bf16_to_float(b[i]);
    sum += tmp[i];
  }
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  const float mean = sum / static_cast<float>(h);

  float acc2[kLanes] = {};
  i = 0;
  for (; i + kLanes <= h; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float d = tmp[i + l] - mean;
      acc2[l] += d * d;
    }
  }
  float var = 0;
  for (; i < h; ++i) var += (tmp[i] - mean) * (tmp[i] - mean);
  for (int l = 0; l < kLanes; ++l) var += acc2[l];
  const float rstd = 1.0f / std::sqrt(var / static_cast<float>(h) + eps);

  for (std::int64_t k = 0; k < h; ++k) {
    out[k] = float_to_bf16((tmp[k] - mean) * rstd * w[k] + bias[k]);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void round_to_bf16(const float* in,
                                                                                std::uint16_t* out,
                                                                                std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = float_to_bf16(in[i]);
}

}  // namespace

at::Tensor float_to_bfloat16(const at::Tensor& t) {
  SM_ASSERT(t.scalar_type() == at::kFloat);
  const at::Tensor in = t.contiguous();
  at::Tensor out = at::empty(in.sizes(), in.options().dtype(at::kBFloat16));
  const float* src = in.data_ptr<float>();
  auto* dst = reinterpret_cast<std::uint16_t*>(out.data_ptr());
  at::parallel_for(0, in.numel(), 1 << 16, [&](std::int64_t begin, std::int64_t end) {
    round_to_bf16(src + begin, dst + begin, end - begin);
  });
  return out;
}

at::Tensor add_layer_norm_bf16(const at::Tensor& a, const at::Tensor& b, const at::Tensor& weight,
                               const at::Tensor& bias, double eps) {
  SM_ASSERT(a.scalar_type() == at::kBFloat16 && b.scalar_type() == at::kBFloat16);
  SM_ASSERT(weight.scalar_type() == at::kFloat && bias.scalar_type() == at::kFloat);
  SM_ASSERT(a.dim() == 2 && a.sizes() == b.sizes() && a.is_contiguous() && b.is_contiguous());
  const std::int64_t n = a.size(0), h = a.size(1);
  SM_ASSERT(weight.numel() == h && bias.numel() == h);
  at::Tensor out = at::empty_like(a);
  const auto* pa = reinterpret_cast<const std::uint16_t*>(a.data_ptr());
  const auto* pb = reinterpret_cast<const std::uint16_t*>(b.data_ptr());
  auto* po = reinterpret_cast<std::uint16_t*>(out.data_ptr());
  const float* pw = weight.data_ptr<float>();
  const float* pbias = bias.data_ptr<float>();
  const auto feps = static_cast<float>(eps);
  at::parallel_for(0, n, 16, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> tmp(static_cast<std::size_t>(h));
    for (std::int64_t r = begin; r < end; ++r) {
      add_layer_norm_row(pa + r * h, pb + r * h, pw, pbias, po + r * h, tmp.data(), h, feps);
    }
  });
  return out;
}

}  // namespace skillmatch
