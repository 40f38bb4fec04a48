// Compute settings shared by the neural models: number type, threads, CPU capabilities.
//
// Thread-safety: set_num_threads() changes process-wide state (libtorch's intra-op pool) and
// should be called once, before inference starts; the query functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace skillmatch {

// Number type of the weights and activations during inference.
enum class DType {
  kAuto,  // bfloat16 where the CPU multiplies bfloat16 natively (AMX, AVX512-BF16), else float32
  kFloat32,
  kBFloat16,
};

// Parses "auto", "float32"/"fp32", "bfloat16"/"bf16"; throws kInvalidArgument naming the value.
DType parse_dtype(std::string_view name);
const char* dtype_name(DType dtype) noexcept;

// kAuto resolved for this CPU; other values unchanged.
DType resolve_dtype(DType dtype) noexcept;

// True when the CPU has hardware bfloat16 matrix products (AMX-BF16 or AVX512-BF16). Without
// them libtorch computes bfloat16 products in a slow scalar path (about 100x slower than float32
// on an AVX2 machine, measured), so kAuto picks float32 there.
bool cpu_has_native_bf16() noexcept;

// Short description of the CPU features that matter for speed ("avx2 fma", "avx512f amx-bf16").
std::string cpu_features();

// Cores this process may run on (sched_getaffinity), at least 1.
int available_cores() noexcept;

// Sets the intra-op thread count of the inference runtime; n <= 0 means available_cores().
// Without a call, loading the first model sets it to available_cores(). Loading a model also
// raises glibc's mmap threshold to 32 MiB (mallopt), process-wide, so that activation buffers
// are reused rather than page-faulted in again by every layer.
void set_num_threads(int n);
int num_threads();

}  // namespace skillmatch
