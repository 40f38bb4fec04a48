// What the CPU offers for speed, detected once (cpuid) and cached. Thread-safe.
#pragma once

#include <string>

namespace skillmatch {

// True when the CPU has hardware bfloat16 matrix products (AMX-BF16 or AVX512-BF16). Without
// them libtorch computes bfloat16 products in a slow scalar path (about 100x slower than float32
// on an AVX2 machine, measured), so kAuto picks float32 there.
bool cpu_has_native_bf16() noexcept;

// True when the CPU multiplies int8 with VNNI in the forms oneDNN 2.6 uses (AVX512-VNNI or
// AMX-INT8): --dtype int8 needs it (oneDNN's other int8 kernels saturate 16-bit pair sums).
bool cpu_has_int8_dot() noexcept;

// Short description of the CPU features that matter for speed ("avx2 fma", "avx512f avx512-vnni
// amx-bf16").
std::string cpu_features();

// Cores this process may run on (sched_getaffinity), at least 1.
int available_cores() noexcept;

}  // namespace skillmatch
