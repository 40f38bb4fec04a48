#include "model/kernels.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "model/simd.h"
#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

using simd::bf16_to_float;
using simd::float_to_bf16;
using simd::load1;
using simd::store1;

// One row. `tmp` holds the float32 sums a + b. Sums in 16 lanes, then across them (the order
// is fixed, so results do not depend on the thread count).
__attribute__((target_clones("avx512f", "avx2", "default"))) void add_layer_norm_row(
    const std::uint16_t* a, const std::uint16_t* b, const float* w, const float* bias,
    std::uint16_t* out, float* tmp, std::int64_t h, float eps) {
  using namespace simd;
  const std::int64_t full = h / kLanes * kLanes;
  f32x16 acc = {};
  for (std::int64_t i = 0; i < full; i += kLanes) {
    const f32x16 v = load16(a + i) + load16(b + i);
    store16(v, tmp + i);
    acc += v;
  }
  float sum = 0;
  for (std::int64_t i = full; i < h; ++i) {
    tmp[i] = bf16_to_float(a[i]) + bf16_to_float(b[i]);
    sum += tmp[i];
  }
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  const float mean = sum / static_cast<float>(h);

  f32x16 acc2 = {};
  for (std::int64_t i = 0; i < full; i += kLanes) {
    const f32x16 d = load16(tmp + i) - mean;
    acc2 += d * d;
  }
  float var = 0;
  for (std::int64_t i = full; i < h; ++i) var += (tmp[i] - mean) * (tmp[i] - mean);
  for (int l = 0; l < kLanes; ++l) var += acc2[l];
  const float rstd = 1.0f / std::sqrt(var / static_cast<float>(h) + eps);

  for (std::int64_t i = 0; i < full; i += kLanes) {
    store16((load16(tmp + i) - mean) * rstd * load16(w + i) + load16(bias + i), out + i);
  }
  for (std::int64_t k = full; k < h; ++k) {
    out[k] = float_to_bf16((tmp[k] - mean) * rstd * w[k] + bias[k]);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void round_to_bf16(const float* in,
                                                                                std::uint16_t* out,
                                                                                std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = float_to_bf16(in[i]);
}

// One row of n scores, through `tmp` (room for n rounded up to 16 floats): scale * x, or a large
// negative value for masked keys and the lanes past n; then the exponentials, zero there. `keep`
// is 1 for a key and 0 for padding (nullptr: all keys).
template <class T>
__attribute__((target_clones("avx512f", "avx2", "default"))) void softmax_row(
    T* row, const float* keep, float scale, float* tmp, std::int64_t n) {
  using namespace simd;
  const std::int64_t full = n / kLanes * kLanes, padded = (n + kLanes - 1) / kLanes * kLanes;
  constexpr float kMasked = -1e30f;
  for (std::int64_t i = full; i < padded; ++i) {
    tmp[i] = i < n && !(keep && keep[i] < 0.5f) ? load1(row[i]) * scale : kMasked;
  }
  f32x16 vmx = f32x16{} + kMasked;
  for (std::int64_t i = 0; i < full; i += kLanes) {
    f32x16 v = load16(row + i) * scale;
    if (keep) v = load16(keep + i) > 0.5f ? v : kMasked;
    store16(v, tmp + i);
    vmx = vmax(vmx, v);
  }
  if (full < padded) vmx = vmax(vmx, load16(tmp + full));
  float mx = kMasked;
  for (int l = 0; l < kLanes; ++l) mx = std::max(mx, vmx[l]);
  f32x16 vsum = {};
  for (std::int64_t i = 0; i < padded; i += kLanes) {
    const f32x16 x = load16(tmp + i);
    const f32x16 e = x > 0.5f * kMasked ? exp_nonpositive(x - mx) : 0.0f;  // masked: exactly 0
    store16(e, tmp + i);
    vsum += e;
  }
  float sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += vsum[l];
  const float inv = sum > 0 ? 1.0f / sum : 0.0f;
  for (std::int64_t i = 0; i < full; i += kLanes) store16(load16(tmp + i) * inv, row + i);
  for (std::int64_t i = full; i < n; ++i) store1(tmp[i] * inv, row + i);
}

}  // namespace

void scaled_masked_softmax_(at::Tensor& scores, double scale, const at::Tensor& mask) {
  SM_ASSERT(scores.dim() == 4 && scores.is_contiguous());
  SM_ASSERT(scores.scalar_type() == at::kFloat || scores.scalar_type() == at::kBFloat16);
  const std::int64_t b = scores.size(0), per_batch = scores.size(1) * scores.size(2),
                     n = scores.size(3);
  at::Tensor keep;
  if (mask.defined()) {
    SM_ASSERT(mask.dim() == 2 && mask.size(0) == b && mask.size(1) == n);
    keep = mask.to(at::kFloat).contiguous();
  }
  const float* pk = keep.defined() ? keep.data_ptr<float>() : nullptr;
  const bool bf16 = scores.scalar_type() == at::kBFloat16;
  void* base = scores.data_ptr();
  const auto fscale = static_cast<float>(scale);
  at::parallel_for(0, b * per_batch, 64, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> tmp(static_cast<std::size_t>((n + 15) / 16 * 16));
    for (std::int64_t r = begin; r < end; ++r) {
      const float* k = pk ? pk + (r / per_batch) * n : nullptr;
      if (bf16) {
        softmax_row(static_cast<std::uint16_t*>(base) + r * n, k, fscale, tmp.data(), n);
      } else {
        softmax_row(static_cast<float*>(base) + r * n, k, fscale, tmp.data(), n);
      }
    }
  });
}

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
