// The fused bfloat16 kernels against libtorch's own (slower) operations.
#include "model/kernels.h"

#include <gtest/gtest.h>

#include <limits>

namespace skillmatch {
namespace {

TEST(Kernels, FloatToBfloat16RoundsExactlyLikeTorch) {
  at::manual_seed(3);
  at::Tensor x = at::randn({100003}) * 100;
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f,
                            1.00390625f /* a tie */,
                            1.01171875f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min(),
                            3.3895313892515355e38f};
  for (std::size_t i = 0; i < std::size(specials); ++i)
    x[static_cast<std::int64_t>(i)] = specials[i];
  const at::Tensor ours = float_to_bfloat16(x);
  const at::Tensor theirs = x.to(at::kBFloat16);
  EXPECT_TRUE(at::equal(ours.view(at::kShort), theirs.view(at::kShort)));
  x[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(float_to_bfloat16(x)[0].item<float>()));
}

TEST(Kernels, AddLayerNormMatchesFloat32LayerNorm) {
  at::manual_seed(5);
  for (std::int64_t h : {32, 768, 37}) {
    const at::Tensor a = (at::randn({67, h}) * 3 + 1).to(at::kBFloat16);
    const at::Tensor b = at::randn({67, h}).to(at::kBFloat16);
    const at::Tensor w = at::randn({h}), bias = at::randn({h});
    const at::Tensor ours = add_layer_norm_bf16(a, b, w, bias, 1e-5).to(at::kFloat);
    const at::Tensor ref = at::layer_norm(a.to(at::kFloat) + b.to(at::kFloat), {h}, w, bias, 1e-5);
    // Only the final rounding to bfloat16 separates the two: half a unit in the last place.
    const double worst = ((ours - ref).abs() / ref.abs().clamp_min(1e-3)).max().item<double>();
    EXPECT_LT(worst, 1.0 / 256) << "h = " << h;
  }
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

TEST(Kernels, ScaledMaskedSoftmaxMatchesTheFloat64Softmax) {
  at::manual_seed(7);
  for (at::ScalarType type : {at::kFloat, at::kBFloat16}) {
    for (std::int64_t n : {1, 5, 16, 37, 52}) {
      const at::Tensor x = (at::randn({3, 2, 4, n}) * 6).to(type);
      at::Tensor mask = at::ones({3, n}, at::kLong);
      if (n > 2) mask[1].narrow(0, n - 2, 2).zero_();  // two keys of padding in sequence 1
      for (bool masked : {false, true}) {
        at::Tensor ours = x.clone();
        scaled_masked_softmax_(ours, 0.125, masked ? mask : at::Tensor());
        at::Tensor logits = x.to(at::kDouble) * 0.125;
        if (masked) {
          logits = logits.masked_fill(mask.view({3, 1, 1, n}) == 0,
                                      -std::numeric_limits<double>::infinity());
        }
        const at::Tensor ref = at::softmax(logits, -1);
        // float32 exp to 2e-7 relative; bfloat16 output rounds to 2^-9 relative.
        const double tol = type == at::kBFloat16 ? 4e-3 : 1e-6;
        EXPECT_LT((ours.to(at::kDouble) - ref).abs().max().item<double>(), tol)
            << at::toString(type) << " n=" << n << " masked=" << masked;
        if (masked && n > 2) {  // padding gets exactly nothing
          EXPECT_EQ(ours[1].narrow(-1, n - 2, 2).abs().max().item<double>(), 0.0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace skillmatch
