// The packed linear layers (oneDNN matmul) against float64 references: float32 and bfloat16
// against the exact product of their rounded inputs, int8's quantisation against its definition,
// and int8's product against the exact product of the dequantised operands.
#include "model/linear.h"

#include <gtest/gtest.h>

#include <thread>

namespace skillmatch {
namespace {

at::Tensor gelu64(const at::Tensor& x) {
  return at::gelu(x);  // exact (erf) form, in float64 here
}

// x [M, K] and w [N, K] in float64: x w^T + b, optionally GELU.
at::Tensor reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, bool gelu) {
  at::Tensor y = at::addmm(b.to(at::kDouble), x.to(at::kDouble), w.to(at::kDouble).t());
  return gelu ? gelu64(y) : y;
}

struct Shape {
  std::int64_t m, k, n;
};
// Token counts of one text up to a batch; widths with and without a 16-wide tail.
const Shape kShapes[] = {{1, 32, 48}, {7, 37, 50}, {64, 768, 96}, {300, 96, 3072 / 8}};

TEST(PackedLinear, Float32MatchesTheExactProduct) {
  at::manual_seed(11);
  for (const Shape& s : kShapes) {
    for (bool gelu : {false, true}) {
      const at::Tensor w = at::randn({s.n, s.k}) * 0.1, b = at::randn({s.n});
      const at::Tensor x = at::randn({s.m, s.k});
      const PackedLinear lin(w, b, LinearKind::kFloat32, gelu);
      const at::Tensor y = lin.forward(x);
      ASSERT_EQ(y.scalar_type(), at::kFloat);
      ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{s.m, s.n}));
      // float32 sums of up to 768 products of unit-scale numbers: a few 1e-6.
      const double err = (y.to(at::kDouble) - reference(x, w, b, gelu)).abs().max().item<double>();
      EXPECT_LT(err, 2e-5) << s.m << "x" << s.k << "x" << s.n << " gelu " << gelu;
    }
  }
}

TEST(PackedLinear, BFloat16MatchesTheExactProductOfItsRoundedInputs) {
  at::manual_seed(12);
  for (const Shape& s : kShapes) {
    for (bool gelu : {false, true}) {
      const at::Tensor w = at::randn({s.n, s.k}) * 0.1, b = at::randn({s.n});
      const at::Tensor x = at::randn({s.m, s.k}).to(at::kBFloat16);
      const PackedLinear lin(w, b, LinearKind::kBFloat16, gelu);
      const at::Tensor y = lin.forward(x);
      ASSERT_EQ(y.scalar_type(), at::kBFloat16);
      // Products of bfloat16 values are exact in the float32 accumulator; what remains is the
      // final rounding to bfloat16 (relative 2^-9) and float32 summation.
      const at::Tensor ref = reference(x, w.to(at::kBFloat16), b, gelu);
      const at::Tensor err = (y.to(at::kDouble) - ref).abs();
      EXPECT_TRUE((err <= ref.abs() * (1.0 / 256) + 1e-4).all().item<bool>())
          << s.m << "x" << s.k << "x" << s.n << " gelu " << gelu << " worst "
          << err.max().item<double>();
    }
  }
}

TEST(PackedLinear, Int8WeightsArePerChannelSymmetric) {
  at::manual_seed(13);
  at::Tensor w = at::randn({9, 70}) * at::linspace(0.01, 3, 9).unsqueeze(1);
  w[4].zero_();
  at::Tensor q, scale;
  quantize_weights_int8(w, q, scale);
  ASSERT_EQ(q.scalar_type(), at::kChar);
  const at::Tensor amax = std::get<0>(w.abs().max(1));
  for (std::int64_t r = 0; r < 9; ++r) {
    const float s = scale[r].item<float>();
    if (r == 4) {
      EXPECT_EQ(s, 1.0f);
      EXPECT_EQ(q[r].abs().max().item<int>(), 0);
      continue;
    }
    EXPECT_FLOAT_EQ(s, amax[r].item<float>() / 127.0f);
    EXPECT_EQ(q[r].abs().max().item<int>(), 127);  // the largest weight uses the full range
    const at::Tensor back = q[r].to(at::kFloat) * s;
    EXPECT_LE((back - w[r]).abs().max().item<float>(), s * 0.5f * (1 + 1e-5f));
  }
}

TEST(PackedLinear, Int8ActivationsArePerRowAsymmetric) {
  at::manual_seed(14);
  for (at::ScalarType type : {at::kFloat, at::kBFloat16}) {
    at::Tensor x = at::randn({6, 53}) * 4;
    x[1] = x[1].abs() + 1;   // all positive: lo = 0, zero point 0
    x[2] = -x[2].abs() - 1;  // all negative: hi = 0, zero point 255
    x[3].zero_();            // constant: scale 1
    x[4] = x[4] * 1e-20;     // tiny values stay representable
    x = x.to(type);
    at::Tensor q, scale, zero;
    quantize_rows_uint8(x, q, scale, zero);
    const at::Tensor xf = x.to(at::kFloat);
    for (std::int64_t r = 0; r < 6; ++r) {
      const float s = scale[r].item<float>();
      const int z = zero[r].item<int>();
      const float lo = std::min(0.0f, xf[r].min().item<float>());
      const float hi = std::max(0.0f, xf[r].max().item<float>());
      EXPECT_FLOAT_EQ(s, hi > lo ? (hi - lo) / 255.0f : 1.0f) << "row " << r;
      EXPECT_GE(z, 0);
      EXPECT_LE(z, 255);
      const at::Tensor back = (q[r].to(at::kFloat) - z) * s;
      // Within half a step, plus the rounding of the zero point itself.
      EXPECT_LE((back - xf[r]).abs().max().item<float>(), s * 1.0f + 1e-30f) << "row " << r;
    }
    EXPECT_EQ(zero[1].item<int>(), 0);
    EXPECT_EQ(zero[2].item<int>(), 255);
    EXPECT_EQ(scale[3].item<float>(), 1.0f);
    EXPECT_EQ(q[3].to(at::kInt).sum().item<int>(), 0);
  }
}

// The exact product of the dequantised operands: what the int8 kernel must compute up to float32
// rounding of its epilogue.
at::Tensor int8_reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                          bool gelu) {
  at::Tensor qw, sw, qx, sx, zx;
  quantize_weights_int8(w, qw, sw);
  quantize_rows_uint8(x, qx, sx, zx);
  const at::Tensor wd = qw.to(at::kDouble) * sw.to(at::kDouble).unsqueeze(1);
  const at::Tensor xd =
      (qx.to(at::kDouble) - zx.to(at::kDouble).unsqueeze(1)) * sx.to(at::kDouble).unsqueeze(1);
  return reference(xd, wd, b, gelu);
}

TEST(PackedLinear, Int8ComputesTheProductOfItsQuantisedOperands) {
  if (!cpu_has_int8_dot()) GTEST_SKIP() << "no VNNI/AMX on this CPU";
  at::manual_seed(15);
  for (at::ScalarType type : {at::kFloat, at::kBFloat16}) {
    for (const Shape& s : kShapes) {
      for (bool gelu : {false, true}) {
        const at::Tensor w = at::randn({s.n, s.k}) * 0.1, b = at::randn({s.n});
        const at::Tensor x = at::randn({s.m, s.k}).to(type);
        const PackedLinear lin(w, b, LinearKind::kInt8, gelu);
        const at::Tensor y = lin.forward(x);
        ASSERT_EQ(y.scalar_type(), type);
        const at::Tensor ref = int8_reference(x, w, b, gelu);
        // The integer sums are exact; the epilogue's float32 arithmetic and GELU's erf
        // (1.5e-7) add a few 1e-6 relative; bfloat16 output rounds to 2^-9 relative.
        const double rel = type == at::kBFloat16 ? 1.0 / 256 : 1e-5;
        const at::Tensor err = (y.to(at::kDouble) - ref).abs();
        EXPECT_TRUE((err <= ref.abs() * rel + 1e-4).all().item<bool>())
            << s.m << "x" << s.k << "x" << s.n << " gelu " << gelu << " worst "
            << err.max().item<double>();
        // And against the float product: quantisation error of a few percent at most.
        const at::Tensor exact = reference(x.to(at::kFloat), w, b, gelu);
        const double rel_fro = ((y.to(at::kDouble) - exact).norm() / exact.norm()).item<double>();
        EXPECT_LT(rel_fro, 0.03) << s.m << "x" << s.k << "x" << s.n;
      }
    }
  }
}

TEST(PackedLinear, Int8QuantisedHandOverEqualsTheTwoStepPath) {
  if (!cpu_has_int8_dot()) GTEST_SKIP() << "no VNNI/AMX on this CPU";
  at::manual_seed(18);
  const at::Tensor w = at::randn({200, 48}) * 0.1, b = at::randn({200});
  const PackedLinear lin(w, b, LinearKind::kInt8, true);
  const at::Tensor x = at::randn({37, 48});
  // forward_quantized = quantize_rows_uint8(forward(x)) when forward's output is float32.
  const QuantizedRows fused = lin.forward_quantized(x);
  QuantizedRows two_step;
  quantize_rows_uint8(lin.forward(x), two_step.q, two_step.scale, two_step.zero);
  EXPECT_TRUE(at::equal(fused.q, two_step.q));
  EXPECT_TRUE(at::equal(fused.scale, two_step.scale));
  EXPECT_TRUE(at::equal(fused.zero, two_step.zero));
  // forward(quantised rows) = forward(x) for the rows x quantises to.
  QuantizedRows in;
  quantize_rows_uint8(x, in.q, in.scale, in.zero);
  EXPECT_TRUE(at::equal(lin.forward(in, at::kFloat), lin.forward(x)));
  // The same sums, rounded to bfloat16 at the end instead.
  EXPECT_TRUE(
      at::equal(lin.forward(in, at::kBFloat16), lin.forward(in, at::kFloat).to(at::kBFloat16)));
}

TEST(PackedLinear, Int8GeluIsTheExactFormOnExtremeInputs) {
  if (!cpu_has_int8_dot()) GTEST_SKIP() << "no VNNI/AMX on this CPU";
  // An identity-like layer (K = N, weights on the diagonal) passes chosen values to the GELU:
  // large negative ones (exp underflow), zero, ties and large positive ones.
  const std::int64_t n = 35;
  const at::Tensor w = at::eye(n);
  const at::Tensor b = at::zeros({n});
  const at::Tensor x = at::linspace(-60, 60, n).unsqueeze(0).repeat({3, 1});
  const PackedLinear lin(w, b, LinearKind::kInt8, true);
  const at::Tensor y = lin.forward(x).to(at::kDouble);
  const at::Tensor ref = int8_reference(x, w, b, true);
  EXPECT_LT((y - ref).abs().max().item<double>(), 1e-4 * 60);
  EXPECT_EQ(y.isfinite().all().item<bool>(), true);
}

TEST(PackedLinear, ConcurrentCallsGiveTheSerialResults) {
  at::manual_seed(16);
  const at::Tensor w = at::randn({96, 64}), b = at::randn({96});
  std::vector<LinearKind> kinds = {LinearKind::kFloat32, LinearKind::kBFloat16};
  if (cpu_has_int8_dot()) kinds.push_back(LinearKind::kInt8);
  for (LinearKind kind : kinds) {
    const PackedLinear lin(w, b, kind, true);
    const at::ScalarType type = kind == LinearKind::kFloat32 ? at::kFloat : at::kBFloat16;
    std::vector<at::Tensor> inputs, serial;
    for (int i = 0; i < 8; ++i) {
      inputs.push_back(at::randn({1 + 13 * i, 64}).to(type));
      serial.push_back(lin.forward(inputs.back()));
    }
    std::vector<at::Tensor> parallel(inputs.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      threads.emplace_back([&, i] {
        for (int rep = 0; rep < 5; ++rep) parallel[i] = lin.forward(inputs[i]);
      });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      EXPECT_TRUE(at::equal(parallel[i], serial[i])) << "kind " << static_cast<int>(kind);
    }
  }
}

TEST(BatchedMatmul, ReadsStridedViewsInPlaceAndMatchesTheExactProduct) {
  at::manual_seed(17);
  for (at::ScalarType type : {at::kFloat, at::kBFloat16}) {
    // As in attention: [B, L, 3, heads, D] split into transposed views of the heads.
    const at::Tensor qkv = at::randn({3, 7, 3, 2, 16}).to(type);
    const at::Tensor q = qkv.select(2, 0).transpose(1, 2), k = qkv.select(2, 1).transpose(1, 2);
    const at::Tensor s = batched_matmul(q, k.transpose(-1, -2));
    ASSERT_EQ(s.sizes(), (std::vector<std::int64_t>{3, 2, 7, 7}));
    EXPECT_TRUE(s.is_contiguous());
    const at::Tensor ref = at::matmul(q.to(at::kDouble), k.to(at::kDouble).transpose(-1, -2));
    const double tol = type == at::kBFloat16 ? 1.0 / 128 : 1e-5;
    EXPECT_TRUE(((s.to(at::kDouble) - ref).abs() <= ref.abs() * tol + 1e-4).all().item<bool>())
        << at::toString(type);
    const at::Tensor narrow =
        batched_matmul(q.narrow(0, 1, 2), k.narrow(0, 1, 2).transpose(-1, -2));
    EXPECT_TRUE(at::equal(narrow, s.narrow(0, 1, 2))) << "a slice of the batch, offset views";
  }
}

TEST(PackedLinear, EmptyBatchGivesAnEmptyResult) {
  const PackedLinear lin(at::randn({8, 16}), at::randn({8}), LinearKind::kFloat32, false);
  EXPECT_EQ(lin.forward(at::empty({0, 16})).sizes(), (std::vector<std::int64_t>{0, 8}));
}

}  // namespace
}  // namespace skillmatch
