#include "model/linear.h"

#include <ATen/Parallel.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/hash.h"
#include "model/kernels.h"
#include "model/simd.h"
#include "model/weight_cache.h"
#include "skillmatch/core/cpu.h"
#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

using namespace simd;  // NOLINT: the kernels below are written in its vocabulary

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dt activation_type(LinearKind kind) {
  switch (kind) {
    case LinearKind::kFloat32:
      return dt::f32;
    case LinearKind::kBFloat16:
      return dt::bf16;
    case LinearKind::kInt8:
      return dt::u8;
  }
  return dt::f32;
}

dt weight_type(LinearKind kind) {
  return kind == LinearKind::kInt8 ? dt::s8 : activation_type(kind);
}

// A matmul primitive and its description (what its memory must look like).
struct Matmul {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};

// Matmul primitives by a key of their shapes (and strides). oneDNN's own primitive cache would
// find the kernel too, but only after a primitive_desc was built again (tens of microseconds per
// call); this map hands it out directly. Entries are a few KiB: the map is cleared when it grows
// past kMaxEntries (distinct token counts and batch shapes).
class MatmulCache {
 public:
  template <class Make>
  std::shared_ptr<const Matmul> get(std::vector<std::int64_t> key, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(key);
    if (it != map_.end()) return it->second;
    if (map_.size() >= kMaxEntries) map_.clear();
    auto made = std::make_shared<const Matmul>(make());
    map_.emplace(std::move(key), made);
    return made;
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  std::mutex mutex_;
  std::map<std::vector<std::int64_t>, std::shared_ptr<const Matmul>> map_;
};

// A linear layer's product at M tokens: src [M, K] x weights (in `weights` layout) -> [M, N];
// float kinds add the float32 bias and apply GELU as a post-op, int8 leaves raw int32 sums.
Matmul make_linear(LinearKind kind, bool gelu, std::int64_t m, std::int64_t k, std::int64_t n,
                   const dnnl::memory::desc& weights) {
  const dt act = activation_type(kind);
  const dnnl::memory::desc src({m, k}, act, tag::ab);
  const dnnl::memory::desc dst({m, n}, kind == LinearKind::kInt8 ? dt::s32 : act, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (gelu && kind != LinearKind::kInt8) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd =
      kind == LinearKind::kInt8
          ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), attr, cpu_engine())
          : dnnl::matmul::primitive_desc(
                dnnl::matmul::desc(src, weights, dnnl::memory::desc({1, n}, dt::f32, tag::ab), dst),
                attr, cpu_engine());
  return Matmul{pd, dnnl::matmul(pd)};
}

// a [B, H, M, K] x b [B, H, K, N] -> contiguous [B, H, M, N], any strides of a and b.
Matmul make_batched(const at::Tensor& a, const at::Tensor& b) {
  const dt type = a.scalar_type() == at::kBFloat16 ? dt::bf16 : dt::f32;
  auto md = [&](const at::Tensor& t) {
    return dnnl::memory::desc(dnnl::memory::dims(t.sizes().begin(), t.sizes().end()), type,
                              dnnl::memory::dims(t.strides().begin(), t.strides().end()));
  };
  const dnnl::memory::desc dst({a.size(0), a.size(1), a.size(2), b.size(3)}, type, tag::abcd);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(md(a), md(b), dst), attr, cpu_engine());
  return Matmul{pd, dnnl::matmul(pd)};
}

// Runs `mm` on `args` (its scratchpad added: one per call, so calls may run concurrently).
void execute(const Matmul& mm, std::unordered_map<int, dnnl::memory> args) {
  at::Tensor scratch =
      at::empty({static_cast<std::int64_t>(mm.pd.scratchpad_desc().get_size())}, at::kByte);
  args.emplace(DNNL_ARG_SCRATCHPAD,
               dnnl::memory(mm.pd.scratchpad_desc(), cpu_engine(), scratch.data_ptr()));
  dnnl::stream stream(cpu_engine());
  mm.prim.execute(stream, args);
  stream.wait();
}

MatmulCache& matmul_cache() {
  static MatmulCache cache;
  return cache;
}

// The layout the kernel wants for [K, N] weights. It does not depend on the token count (checked
// for 1 to 8,192 on AVX-512, AVX512-BF16 and VNNI kernels); any M picks it.
// For int8, the kernel must be a VNNI or AMX one: oneDNN's other int8 kernels sum pairs of
// products in 16 bits, which saturate for uint8 x int8 (2 x 255 x 127 > 32,767).
dnnl::memory::desc packed_layout(LinearKind kind, bool gelu, std::int64_t k, std::int64_t n) {
  SM_CHECK(kind != LinearKind::kInt8 || cpu_has_int8_dot(), ErrorKind::kUnsupported,
           "int8 needs a CPU with int8 dot-product instructions (AVX512-VNNI or AMX-INT8); this "
           "one has none: use --dtype bfloat16 or float32");
  const dnnl::memory::desc any({k, n}, weight_type(kind), tag::any);
  Matmul probe;
  try {
    probe = make_linear(kind, gelu, 256, k, n, any);
  } catch (const dnnl::error& e) {
    throw Error(
        ErrorKind::kUnsupported,
        std::string("oneDNN has no matrix product for this number type on this CPU: ") + e.what());
  }
  const std::string impl = probe.pd.impl_info_str();
  SM_CHECK(kind != LinearKind::kInt8 || impl.find("vnni") != std::string::npos ||
               impl.find("amx") != std::string::npos,
           ErrorKind::kUnsupported,
           "int8: oneDNN chose a kernel without VNNI/AMX (" + impl +
               ") on this CPU; use --dtype bfloat16 or float32");
  return probe.pd.weights_desc();
}

// The packed layout's description as bytes (a plain struct in oneDNN 2.x): what a weight cache
// records beside the weights, and a key of the primitives made for it.
at::Tensor layout_bytes(const dnnl::memory::desc& md) {
  at::Tensor t = at::empty({static_cast<std::int64_t>(sizeof md.data)}, at::kByte);
  std::memcpy(t.data_ptr(), &md.data, sizeof md.data);
  return t;
}

std::int64_t layout_hash(const dnnl::memory::desc& md) {
  std::uint64_t h = kFnvOffset;
  fnv1a_mix(h, &md.data, sizeof md.data);
  return static_cast<std::int64_t>(h);
}

// ---------------------------------------------------------------- int8 kernels
// (vector helpers: model/simd.h; target_clones builds an AVX-512, an AVX2 and a baseline version
// of each kernel and picks one when the program starts)

template <class In>
__attribute__((target_clones("avx512f", "avx2", "default"))) void quantize_row(
    const In* x, std::int64_t k, std::uint8_t* q, float* scale_out, std::int32_t* zero_out) {
  const std::int64_t full = k / kLanes * kLanes;
  In tail[kLanes] = {};  // zeros do not change min(0, ...) and max(0, ...)
  std::copy(x + full, x + k, tail);
  f32x16 lo = {}, hi = {};
  for (std::int64_t i = 0; i < full; i += kLanes) {
    const f32x16 v = load16(x + i);
    lo = vmin(lo, v);
    hi = vmax(hi, v);
  }
  lo = vmin(lo, load16(tail));
  hi = vmax(hi, load16(tail));
  float mn = 0.0f, mx = 0.0f;
  for (int l = 0; l < kLanes; ++l) {
    mn = std::min(mn, lo[l]);
    mx = std::max(mx, hi[l]);
  }
  const float scale = mx > mn ? (mx - mn) / 255.0f : 1.0f;
  const float inv = 1.0f / scale;
  const float zero = std::min(255.0f, std::max(0.0f, std::nearbyint(-mn * inv)));
  const f32x16 vzero = f32x16{} + zero, v0 = f32x16{}, v255 = f32x16{} + 255.0f;
  // (No lambda here: a lambda is compiled for the baseline target, not this clone's.)
  std::uint8_t tail_q[kLanes];
  for (std::int64_t i = 0; i < k; i += kLanes) {
    const bool partial = i == full;
    const f32x16 r = (load16(partial ? tail : x + i) * inv + kRoundMagic) - kRoundMagic + vzero;
    const u8x16 b =
        __builtin_convertvector(__builtin_convertvector(vmin(v255, vmax(v0, r)), i32x16), u8x16);
    std::memcpy(partial ? tail_q : q + i, &b, sizeof b);
  }
  if (full < k) std::copy(tail_q, tail_q + (k - full), q + full);
  *scale_out = scale;
  *zero_out = static_cast<std::int32_t>(zero);
}

// GELU in its exact (erf) form, erf by Abramowitz & Stegun 7.1.26 (absolute error 1.5e-7).
[[gnu::always_inline]] inline f32x16 gelu_erf(f32x16 v) {
  const f32x16 z = v * 0.70710678f;
  const f32x16 a = vmax(z, -z);
  const f32x16 t = 1.0f / (1.0f + 0.3275911f * a);
  const f32x16 poly =
      t * (0.254829592f +
           t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const f32x16 e = 1.0f - poly * exp_nonpositive(-a * a);  // erf(|z|)
  return 0.5f * v * (1.0f + (z < 0.0f ? -e : e));
}

// One output row: x W^T ~ scale_x * scale_w[j] * (acc[j] - zero_x * wsum[j]), plus bias, GELU.
template <bool kGelu, class Out>
__attribute__((target_clones("avx512f", "avx2", "default"))) void dequantize_row(
    const std::int32_t* acc, std::int32_t zero, float scale, const float* wscale,
    const std::int32_t* wsum, const float* bias, Out* out, std::int64_t n) {
  // (No lambda here: a lambda is compiled for the baseline target, not this clone's.)
  const std::int64_t full = n / kLanes * kLanes;
  for (std::int64_t j = 0; j < full; j += kLanes) {
    i32x16 a, s;
    std::memcpy(&a, acc + j, sizeof a);
    std::memcpy(&s, wsum + j, sizeof s);
    f32x16 v = __builtin_convertvector(a - zero * s, f32x16) * (scale * load16(wscale + j)) +
               load16(bias + j);
    if (kGelu) v = gelu_erf(v);
    store16(v, out + j);
  }
  for (std::int64_t j = full; j < n; ++j) {  // the tail, one at a time through lane 0
    float v = static_cast<float>(acc[j] - zero * wsum[j]) * (scale * wscale[j]) + bias[j];
    if (kGelu) v = gelu_erf(f32x16{} + v)[0];
    store1(v, out + j);
  }
}

}  // namespace

struct PackedLinear::Packed {
  dnnl::memory::desc md;  // the packed layout of the [K, N] weights
  at::Tensor weights;     // bytes in that layout
  // The weights as oneDNN memory, made once: making one zeroes the layout's padding (a write), so
  // it must not happen in concurrent calls.
  dnnl::memory memory;
  at::Tensor bias;    // [N] float32
  at::Tensor wscale;  // kInt8: [N] float32, per output channel
  at::Tensor wsum;    // kInt8: [N] int32, sum of a row of quantised weights
};

namespace {

// The epilogue of one int8 product: output row r of x W^T from the int32 sums of the quantised
// rows `in` (their scales and zero points) and the layer's weight scales, weight row sums and
// bias, with GELU if the layer has it. It points into those tensors: they must outlive it.
struct Int8Epilogue {
  const std::int32_t* acc;
  const float* scale;
  const std::int32_t* zero;
  const float* wscale;
  const std::int32_t* wsum;
  const float* bias;
  std::int64_t n;
  bool gelu;

  Int8Epilogue(const PackedLinear::Packed& p, const QuantizedRows& in, const at::Tensor& sums,
               bool with_gelu)
      : acc(sums.data_ptr<std::int32_t>()),
        scale(in.scale.data_ptr<float>()),
        zero(in.zero.data_ptr<std::int32_t>()),
        wscale(p.wscale.data_ptr<float>()),
        wsum(p.wsum.data_ptr<std::int32_t>()),
        bias(p.bias.data_ptr<float>()),
        n(sums.size(1)),
        gelu(with_gelu) {}

  template <class Out>
  void row(std::int64_t r, Out* out) const {
    const std::int32_t* a = acc + r * n;
    gelu ? dequantize_row<true>(a, zero[r], scale[r], wscale, wsum, bias, out, n)
         : dequantize_row<false>(a, zero[r], scale[r], wscale, wsum, bias, out, n);
  }
};

}  // namespace

at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b) {
  SM_ASSERT(a.dim() == 4 && b.dim() == 4 && a.scalar_type() == b.scalar_type());
  SM_ASSERT(a.size(0) == b.size(0) && a.size(1) == b.size(1) && a.size(3) == b.size(2));
  SM_ASSERT(a.scalar_type() == at::kFloat || a.scalar_type() == at::kBFloat16);
  at::Tensor out = at::empty({a.size(0), a.size(1), a.size(2), b.size(3)}, a.options());
  if (out.numel() == 0) return out;
  std::vector<std::int64_t> key = {1, static_cast<std::int64_t>(a.scalar_type())};
  for (const at::Tensor* t : {&a, &b}) {
    key.insert(key.end(), t->sizes().begin(), t->sizes().end());
    key.insert(key.end(), t->strides().begin(), t->strides().end());
  }
  const std::shared_ptr<const Matmul> mm =
      matmul_cache().get(std::move(key), [&] { return make_batched(a, b); });
  dnnl::engine& eng = cpu_engine();
  execute(*mm, {{DNNL_ARG_SRC, dnnl::memory(mm->pd.src_desc(), eng, a.data_ptr())},
                {DNNL_ARG_WEIGHTS, dnnl::memory(mm->pd.weights_desc(), eng, b.data_ptr())},
                {DNNL_ARG_DST, dnnl::memory(mm->pd.dst_desc(), eng, out.data_ptr())}});
  return out;
}

std::string packing_variant(LinearKind kind) {
  const dnnl_version_t* v = dnnl_version();
  const char* name = kind == LinearKind::kInt8       ? "int8"
                     : kind == LinearKind::kBFloat16 ? "bfloat16"
                                                     : "float32";
  return std::string(name) + " / " + cpu_features() + " / onednn " + std::to_string(v->major) +
         "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " " + v->hash;
}

void quantize_weights_int8(const at::Tensor& w, at::Tensor& q, at::Tensor& scale) {
  SM_ASSERT(w.dim() == 2 && w.scalar_type() == at::kFloat);
  const at::Tensor wc = w.contiguous();
  const std::int64_t n = wc.size(0), k = wc.size(1);
  q = at::empty({n, k}, at::kChar);
  scale = at::empty({n}, at::kFloat);
  const float* src = wc.data_ptr<float>();
  auto* dst = q.data_ptr<std::int8_t>();
  float* s = scale.data_ptr<float>();
  at::parallel_for(0, n, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      float amax = 0;
      for (std::int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(src[r * k + i]));
      s[r] = amax > 0 ? amax / 127.0f : 1.0f;
      for (std::int64_t i = 0; i < k; ++i) {
        const float v = std::round(src[r * k + i] / s[r]);
        dst[r * k + i] = static_cast<std::int8_t>(std::max(-127.0f, std::min(127.0f, v)));
      }
    }
  });
}

void quantize_rows_uint8(const at::Tensor& x, at::Tensor& q, at::Tensor& scale, at::Tensor& zero) {
  SM_ASSERT(x.dim() == 2 && x.is_contiguous());
  SM_ASSERT(x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16);
  const std::int64_t m = x.size(0), k = x.size(1);
  q = at::empty({m, k}, at::kByte);
  scale = at::empty({m}, at::kFloat);
  zero = at::empty({m}, at::kInt);
  auto* pq = q.data_ptr<std::uint8_t>();
  float* ps = scale.data_ptr<float>();
  auto* pz = zero.data_ptr<std::int32_t>();
  const bool bf16 = x.scalar_type() == at::kBFloat16;
  const void* px = x.data_ptr();
  at::parallel_for(0, m, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      if (bf16) {
        quantize_row(static_cast<const std::uint16_t*>(px) + r * k, k, pq + r * k, ps + r, pz + r);
      } else {
        quantize_row(static_cast<const float*>(px) + r * k, k, pq + r * k, ps + r, pz + r);
      }
    }
  });
}

PackedLinear::PackedLinear(const at::Tensor& weight, const at::Tensor& bias, LinearKind kind,
                           bool gelu)
    : k_(weight.size(1)), n_(weight.size(0)), kind_(kind), gelu_(gelu) {
  SM_ASSERT(weight.dim() == 2 && weight.scalar_type() == at::kFloat);
  SM_ASSERT(bias.dim() == 1 && bias.size(0) == n_ && bias.scalar_type() == at::kFloat);
  auto p = std::make_shared<Packed>();
  p->bias = bias.contiguous().clone();

  // Source: the [N, K] row-major weights read as [K, N] with tag ba, in the kind's type.
  at::Tensor src;
  if (kind == LinearKind::kInt8) {
    quantize_weights_int8(weight, src, p->wscale);
    p->wsum = src.to(at::kInt).sum(1).to(at::kInt);
  } else if (kind == LinearKind::kBFloat16) {
    src = float_to_bfloat16(weight);
  } else {
    src = weight.contiguous();
  }
  p->md = packed_layout(kind, gelu, k_, n_);
  p->weights = at::empty({static_cast<std::int64_t>(p->md.get_size())}, at::kByte);
  dnnl::stream stream(cpu_engine());
  dnnl::memory from(dnnl::memory::desc({k_, n_}, weight_type(kind), tag::ba), cpu_engine(),
                    src.data_ptr());
  p->memory = dnnl::memory(p->md, cpu_engine(), p->weights.data_ptr());
  dnnl::reorder(from, p->memory).execute(stream, from, p->memory);
  stream.wait();
  packed_ = std::move(p);
}

void PackedLinear::save(WeightCacheWriter& writer, const std::string& name) const {
  writer.add(name + ".md", layout_bytes(packed_->md));
  writer.add(name + ".w", packed_->weights);
  writer.add(name + ".b", packed_->bias);
  if (kind_ == LinearKind::kInt8) {
    writer.add(name + ".ws", packed_->wscale);
    writer.add(name + ".wsum", packed_->wsum);
  }
}

PackedLinear PackedLinear::load(const WeightCache& cache, const std::string& name, std::int64_t n,
                                std::int64_t k, LinearKind kind, bool gelu) {
  PackedLinear l;
  l.k_ = k;
  l.n_ = n;
  l.kind_ = kind;
  l.gelu_ = gelu;
  auto p = std::make_shared<Packed>();
  p->md = packed_layout(kind, gelu, k, n);
  // The layout oneDNN picks may depend on more than the CPU (AMX kernels also look at the thread
  // count): the bytes are used only in the very layout they were packed in.
  const at::Tensor saved =
      cache.tensor(name + ".md", {static_cast<std::int64_t>(sizeof p->md.data)}, at::kByte);
  SM_CHECK(at::equal(saved, layout_bytes(p->md)), ErrorKind::kCorrupt,
           "weight cache: " + name + " was packed in another layout than this process uses");
  p->weights = cache.tensor(name + ".w", {static_cast<std::int64_t>(p->md.get_size())}, at::kByte);
  p->memory = dnnl::memory(p->md, cpu_engine(), p->weights.data_ptr());
  p->bias = cache.tensor(name + ".b", {n}, at::kFloat);
  if (kind == LinearKind::kInt8) {
    p->wscale = cache.tensor(name + ".ws", {n}, at::kFloat);
    p->wsum = cache.tensor(name + ".wsum", {n}, at::kInt);
  }
  l.packed_ = std::move(p);
  return l;
}

at::Tensor PackedLinear::matmul(const at::Tensor& src, const at::TensorOptions& dst_options) const {
  const std::int64_t m = src.size(0);
  const bool int8 = kind_ == LinearKind::kInt8;
  const std::shared_ptr<const Matmul> mm = matmul_cache().get(
      {0, static_cast<std::int64_t>(kind_), gelu_, m, k_, n_, layout_hash(packed_->md)},
      [&] { return make_linear(kind_, gelu_, m, k_, n_, packed_->md); });
  at::Tensor dst = at::empty({m, n_}, int8 ? at::TensorOptions(at::kInt) : dst_options);
  dnnl::engine& eng = cpu_engine();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(mm->pd.src_desc(), eng, src.data_ptr())},
      {DNNL_ARG_WEIGHTS, packed_->memory},
      {DNNL_ARG_DST, dnnl::memory(mm->pd.dst_desc(), eng, dst.data_ptr())}};
  if (!int8) {
    args.emplace(DNNL_ARG_BIAS,
                 dnnl::memory(mm->pd.bias_desc(), eng, packed_->bias.data_ptr<float>()));
  }
  execute(*mm, std::move(args));
  return dst;
}

at::Tensor PackedLinear::forward(const at::Tensor& x) const {
  SM_ASSERT(x.dim() == 2 && x.size(1) == k_ && x.is_contiguous());
  if (kind_ == LinearKind::kInt8) {
    SM_ASSERT(x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16);
    QuantizedRows in;
    quantize_rows_uint8(x, in.q, in.scale, in.zero);
    return forward(in, x.scalar_type());
  }
  SM_ASSERT(x.scalar_type() == (kind_ == LinearKind::kBFloat16 ? at::kBFloat16 : at::kFloat));
  if (x.size(0) == 0) return at::empty({0, n_}, x.options());
  return matmul(x, x.options());
}

at::Tensor PackedLinear::forward(const QuantizedRows& x, at::ScalarType out_type) const {
  SM_ASSERT(kind_ == LinearKind::kInt8 && x.q.dim() == 2 && x.q.size(1) == k_);
  SM_ASSERT(out_type == at::kFloat || out_type == at::kBFloat16);
  const std::int64_t m = x.q.size(0);
  at::Tensor out = at::empty({m, n_}, out_type);
  if (m == 0) return out;
  const at::Tensor sums = matmul(x.q, {});
  const Int8Epilogue epilogue(*packed_, x, sums, gelu_);
  const bool bf16 = out_type == at::kBFloat16;
  void* po = out.data_ptr();
  const std::int64_t n = n_;
  at::parallel_for(0, m, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      if (bf16) {
        epilogue.row(r, static_cast<std::uint16_t*>(po) + r * n);
      } else {
        epilogue.row(r, static_cast<float*>(po) + r * n);
      }
    }
  });
  return out;
}

QuantizedRows PackedLinear::forward_quantized(const at::Tensor& x) const {
  SM_ASSERT(kind_ == LinearKind::kInt8 && x.dim() == 2 && x.size(1) == k_ && x.is_contiguous());
  QuantizedRows in, out;
  quantize_rows_uint8(x, in.q, in.scale, in.zero);
  const std::int64_t m = x.size(0);
  out.q = at::empty({m, n_}, at::kByte);
  out.scale = at::empty({m}, at::kFloat);
  out.zero = at::empty({m}, at::kInt);
  if (m == 0) return out;
  const at::Tensor sums = matmul(in.q, {});
  const Int8Epilogue epilogue(*packed_, in, sums, gelu_);
  auto* oq = out.q.data_ptr<std::uint8_t>();
  float* os = out.scale.data_ptr<float>();
  auto* oz = out.zero.data_ptr<std::int32_t>();
  const std::int64_t n = n_;
  // Each output row goes through a float32 row that stays in L1 (12 KiB for 3,072 columns): the
  // [M, N] activations are never written, only their uint8 form.
  at::parallel_for(0, m, 8, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> row(static_cast<std::size_t>(n));
    for (std::int64_t r = begin; r < end; ++r) {
      epilogue.row(r, row.data());
      quantize_row(row.data(), n, oq + r * n, os + r, oz + r);
    }
  });
  return out;
}

}  // namespace skillmatch
