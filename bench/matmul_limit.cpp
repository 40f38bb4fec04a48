#include "matmul_limit.h"

#include <ATen/ATen.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace skillmatch::bench {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Shape {
  std::int64_t k, n;
};

template <class F>
double best_seconds(int repeat, F&& f) {
  f();  // warm-up: kernels generated, pages touched
  double best = 1e300;
  for (int i = 0; i < std::max(1, repeat); ++i) {
    const auto t = std::chrono::steady_clock::now();
    f();
    best =
        std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
  }
  return best;
}

double onednn_seconds(const std::string& dtype, std::int64_t m, const std::vector<Shape>& shapes,
                      int repeat) {
  const dt src_t = dtype == "int8" ? dt::u8 : dtype == "bfloat16" ? dt::bf16 : dt::f32;
  const dt wei_t = dtype == "int8" ? dt::s8 : src_t;
  const dt dst_t = dtype == "int8" ? dt::s32 : src_t;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(eng);
  std::vector<dnnl::matmul> prims;
  std::vector<std::unordered_map<int, dnnl::memory>> args;
  for (const Shape& s : shapes) {
    const dnnl::memory::desc a({m, s.k}, src_t, tag::ab), b({s.k, s.n}, wei_t, tag::any),
        c({m, s.n}, dst_t, tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), eng);
    std::unordered_map<int, dnnl::memory> mem{
        {DNNL_ARG_SRC, dnnl::memory(a, eng)},
        {DNNL_ARG_WEIGHTS, dnnl::memory(pd.weights_desc(), eng)},
        {DNNL_ARG_DST, dnnl::memory(c, eng)}};
    // Ones (in each type's encoding): no subnormal slows a kernel down. The weights are filled
    // in their packed layout, padding included, which is the same value everywhere.
    for (int arg : {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS}) {
      const dt type = arg == DNNL_ARG_SRC ? src_t : wei_t;
      void* p = mem[arg].get_data_handle();
      const std::size_t bytes = mem[arg].get_desc().get_size();
      if (type == dt::f32) {
        std::fill_n(static_cast<float*>(p), bytes / 4, 1.0f);
      } else if (type == dt::bf16) {
        std::fill_n(static_cast<std::uint16_t*>(p), bytes / 2, std::uint16_t{0x3f80});
      } else {
        std::fill_n(static_cast<std::uint8_t*>(p), bytes, std::uint8_t{1});
      }
    }
    prims.emplace_back(pd);
    args.push_back(std::move(mem));
  }
  return best_seconds(repeat, [&] {
    for (std::size_t i = 0; i < prims.size(); ++i) prims[i].execute(stream, args[i]);
    stream.wait();
  });
}

double libtorch_seconds(const std::string& dtype, std::int64_t m, const std::vector<Shape>& shapes,
                        int repeat) {
  const at::ScalarType t = dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  std::vector<at::Tensor> x, w, b;
  for (const Shape& s : shapes) {
    x.push_back(at::ones({m, s.k}, t));
    w.push_back(at::ones({s.n, s.k}, t));
    b.push_back(at::ones({s.n}, t));
  }
  return best_seconds(repeat, [&] {
    for (std::size_t i = 0; i < shapes.size(); ++i) at::addmm(b[i], x[i], w[i].t());
  });
}

}  // namespace

MatmulRate measure_matmul_rate(const std::string& dtype, std::int64_t m, std::int64_t h,
                               std::int64_t f, int repeat) {
  const std::vector<Shape> shapes = {{h, 3 * h}, {h, h}, {h, f}, {f, h}};
  double flops = 0;
  for (const Shape& s : shapes) flops += 2.0 * static_cast<double>(m * s.k * s.n);
  MatmulRate best;
  try {
    best = {flops / onednn_seconds(dtype, m, shapes, repeat) / 1e9, "onednn"};
  } catch (const dnnl::error&) {
    // no kernel for this type on this CPU
  }
  if (dtype != "int8") {
    const double torch = flops / libtorch_seconds(dtype, m, shapes, repeat) / 1e9;
    if (torch > best.gflops) best = {torch, "libtorch"};
  }
  return best;
}

}  // namespace skillmatch::bench
