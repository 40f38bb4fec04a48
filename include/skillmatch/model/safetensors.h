// A memory-mapped reader of the safetensors format (Hugging Face's weight files).
//
// Layout: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {...}}, then the data. Every entry is checked when
// the file is opened: known dtype, non-negative shape, offsets inside the data, byte size equal to
// the product of the shape and the dtype size, and no two tensors overlapping.
//
// Thread-safety: immutable after open(); safe to read from any thread.
// Errors: kNotFound (missing file), kCorrupt (naming the file and tensor) for a truncated or
// inconsistent file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "skillmatch/core/io.h"

namespace skillmatch {

enum class TensorDType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

const char* tensor_dtype_name(TensorDType dtype) noexcept;

// "[768, 3072]"
std::string format_shape(const std::vector<std::int64_t>& shape);
std::size_t tensor_dtype_size(TensorDType dtype) noexcept;

struct TensorInfo {
  std::string name;
  TensorDType dtype = TensorDType::kF32;
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;  // from the start of the file
  std::size_t nbytes = 0;

  std::int64_t numel() const;
  std::string shape_string() const;  // "[768, 3072]"
};

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);

  // nullptr if the file has no tensor of that name.
  const TensorInfo* find(const std::string& name) const;
  const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  const std::filesystem::path& path() const noexcept { return file_->path(); }

  // Raw little-endian bytes of a tensor of this file (info.nbytes of them).
  const std::uint8_t* data(const TensorInfo& info) const noexcept {
    return file_->data() + info.offset;
  }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> by_name_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace skillmatch
