// The machine's own limit for a transformer forward pass: the rate of the matrix products of one
// XLM-R layer (query/key/value fused H -> 3H, output H -> H, FFN H -> F and F -> H) at a batch's
// token count, measured on this machine in this run, for float32, bfloat16 and int8. Each rate is
// the best of the plain products that oneDNN (weights packed once, no bias, no post-ops) and
// libtorch (addmm, float types only) reach, so that it bounds any implementation on top of them.
#pragma once

#include <cstdint>
#include <string>

namespace skillmatch::bench {

struct MatmulRate {
  double gflops = 0;  // 1e9 multiply-adds x 2 per second
  std::string how;    // "onednn", "libtorch"
};

// dtype: "float32", "bfloat16" or "int8" (uint8 x int8 -> int32). m: tokens of a batch; h, f:
// hidden and intermediate size. Best of `repeat` timed rounds after a warm-up. Returns gflops 0
// when the CPU has no kernel for the type.
MatmulRate measure_matmul_rate(const std::string& dtype, std::int64_t m, std::int64_t h,
                               std::int64_t f, int repeat);

// Multiply-adds x 2 of the linear layers of one token through `layers` layers.
inline double linear_flops_per_token(std::int64_t h, std::int64_t f, std::int64_t layers) {
  return 2.0 * static_cast<double>(layers) * static_cast<double>(h * 3 * h + h * h + 2 * h * f);
}

}  // namespace skillmatch::bench
