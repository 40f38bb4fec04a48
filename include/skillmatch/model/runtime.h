// Compute settings shared by the neural models: number type, threads, CPU capabilities.
//
// Thread-safety: set_num_threads() changes process-wide state (libtorch's intra-op pool) and
// should be called once, before inference starts; the query functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "skillmatch/core/cpu.h"

namespace skillmatch {

// Number type of the weights and activations during inference.
enum class DType {
  kAuto,  // bfloat16 where the CPU multiplies bfloat16 natively (AMX, AVX512-BF16), else float32
  kFloat32,
  kBFloat16,
  kInt8,  // int8 linear layers (weights per output channel at load, activations per token at
          // every call), the rest in bfloat16 where the CPU has it, else float32; needs VNNI/AMX
};

// Parses "auto", "float32"/"fp32", "bfloat16"/"bf16", "int8"; throws kInvalidArgument naming the
// value.
DType parse_dtype(std::string_view name);
const char* dtype_name(DType dtype) noexcept;

// kAuto resolved for this CPU; other values unchanged.
DType resolve_dtype(DType dtype) noexcept;

// Sets the intra-op thread count of the inference runtime; n <= 0 means available_cores().
// Without a call, loading the first model sets it to available_cores(). Loading a model also
// raises glibc's mmap threshold to 32 MiB (mallopt), process-wide, so that activation buffers
// are reused rather than page-faulted in again by every layer.
void set_num_threads(int n);
int num_threads();

}  // namespace skillmatch
