// 16-float vectors written with GCC's vector extensions (one AVX-512 register, two AVX2 ones),
// for the hand-written kernels of the model layer (linear.cpp, kernels.cpp). Include only from
// files compiled with -fno-trapping-math and -Wno-psabi (see CMakeLists.txt): the selects below
// vectorise only without trapping math, and every helper is always inlined (also at -O0) into the
// target_clones version that uses it, so no 64-byte vector crosses a call between code built for
// different targets (the psABI note; a debug build crashed on it before they were forced inline).
// A row's tail is handled by the same code on a zero-padded copy.
#pragma once

#include <cstdint>
#include <cstring>

namespace skillmatch::simd {

using f32x16 = float __attribute__((vector_size(64)));
using i32x16 = std::int32_t __attribute__((vector_size(64)));
using u32x16 = std::uint32_t __attribute__((vector_size(64)));
using u16x16 = std::uint16_t __attribute__((vector_size(32)));
using u8x16 = std::uint8_t __attribute__((vector_size(16)));
constexpr int kLanes = 16;
constexpr float kRoundMagic =
    12582912.0f;  // 1.5 * 2^23: (x + magic) - magic rounds to nearest even

template <class To, class From>
[[gnu::always_inline]] inline To bit_cast_vec(const From& v) {
  static_assert(sizeof(To) == sizeof(From));
  To t;
  std::memcpy(&t, &v, sizeof t);
  return t;
}

[[gnu::always_inline]] inline f32x16 load16(const float* p) {
  f32x16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline f32x16 load16(const std::uint16_t* p) {  // bfloat16
  u16x16 h;
  std::memcpy(&h, p, sizeof h);
  return bit_cast_vec<f32x16>(__builtin_convertvector(h, u32x16) << 16);
}
[[gnu::always_inline]] inline void store16(f32x16 v, float* p) {
  std::memcpy(p, &v, sizeof v);
}
[[gnu::always_inline]] inline void store16(
    f32x16 v, std::uint16_t* p) {  // nearest even; values here are finite
  u32x16 bits = bit_cast_vec<u32x16>(v);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  const u16x16 h = __builtin_convertvector(bits >> 16, u16x16);
  std::memcpy(p, &h, sizeof h);
}
[[gnu::always_inline]] inline f32x16 vmin(f32x16 a, f32x16 b) {
  return a < b ? a : b;
}
[[gnu::always_inline]] inline f32x16 vmax(f32x16 a, f32x16 b) {
  return a > b ? a : b;
}

// Scalar forms, for rows' tails.
[[gnu::always_inline]] inline float bf16_to_float(std::uint16_t v) {
  const std::uint32_t bits = static_cast<std::uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
// Round to nearest even, as torch does; NaN stays a (quiet) NaN.
[[gnu::always_inline]] inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}
[[gnu::always_inline]] inline float load1(float v) {
  return v;
}
[[gnu::always_inline]] inline float load1(std::uint16_t v) {
  return bf16_to_float(v);
}
[[gnu::always_inline]] inline void store1(float v, float* p) {
  *p = v;
}
[[gnu::always_inline]] inline void store1(float v, std::uint16_t* p) {
  *p = float_to_bf16(v);
}

// exp(u) for u <= 0, u clamped at -80 (e^-80 = 1.8e-35: every product with it stays a normal
// float, since subnormal arithmetic costs a hundred cycles an element): Cody-Waite reduction to r
// in [-ln2/2, ln2/2] and a degree-6 Taylor polynomial (relative error below 2e-7 there).
[[gnu::always_inline]] inline f32x16 exp_nonpositive(f32x16 u) {
  u = vmax(u, f32x16{} - 80.0f);
  const f32x16 n = (u * 1.44269504f + kRoundMagic) - kRoundMagic;
  const f32x16 r = (u - n * 0.693359375f) - n * -2.12194440e-4f;
  f32x16 p = f32x16{} + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const i32x16 bits = (__builtin_convertvector(n, i32x16) + 127) << 23;
  return p * bit_cast_vec<f32x16>(bits);
}

}  // namespace skillmatch::simd
