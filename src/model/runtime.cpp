#include "skillmatch/model/runtime.h"

#include "skillmatch/core/error.h"

namespace skillmatch {

DType parse_dtype(std::string_view name) {
  if (name == "auto") return DType::kAuto;
  if (name == "float32" || name == "fp32") return DType::kFloat32;
  if (name == "bfloat16" || name == "bf16") return DType::kBFloat16;
  if (name == "int8") return DType::kInt8;
  throw Error(ErrorKind::kInvalidArgument, "unknown dtype '" + std::string(name) +
                                               "' (expected auto, float32, bfloat16 or int8)");
}

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::kAuto:
      return "auto";
    case DType::kFloat32:
      return "float32";
    case DType::kBFloat16:
      return "bfloat16";
    case DType::kInt8:
      return "int8";
  }
  return "?";
}

DType resolve_dtype(DType dtype) noexcept {
  if (dtype != DType::kAuto) return dtype;
  return cpu_has_native_bf16() ? DType::kBFloat16 : DType::kFloat32;
}

}  // namespace skillmatch
