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
