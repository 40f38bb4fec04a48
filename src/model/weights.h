// Weights of one model folder as libtorch tensors: model.safetensors (preferred) or PyTorch's
// pytorch_model.bin (zip format), with the name prefix ("roberta.", "bert.", none) detected once.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace skillmatch {

class WeightSource {
 public:
  // Opens DIR/model.safetensors, else DIR/pytorch_model.bin. `anchor` is a tensor name (without
  // prefix) that must exist; it decides which prefix the file uses. Throws kNotFound naming the
  // folder if neither file exists, kUnsupported for sharded checkpoints, kCorrupt on bad data.
  static WeightSource open(const std::filesystem::path& dir, const std::string& anchor);

  // The tensor `name` (prefix added), converted to `dtype`, as an owned contiguous tensor.
  // Throws kNotFound naming the tensor and file if missing, kCorrupt if its shape is not `shape`,
  // kUnsupported for a non-float dtype.
  at::Tensor get(const std::string& name, const std::vector<std::int64_t>& shape,
                 at::ScalarType dtype) const;
  bool has(const std::string& name) const;

  // The tensor `name` in place, over the memory-mapped safetensors file, when the file stores it
  // as `dtype` with `shape` at an aligned offset: no copy, and only the pages that are read count
  // (a 250,002-row embedding table of which inputs touch a few thousand rows). Read-only; keeps
  // the file mapped while it lives. An undefined tensor when that is not possible.
  at::Tensor map(const std::string& name, const std::vector<std::int64_t>& shape,
                 at::ScalarType dtype) const;

  // The same file with no prefix: for tensors outside the base model, like `classifier.*`.
  WeightSource unprefixed() const {
    WeightSource w = *this;
    w.prefix_.clear();
    return w;
  }

  const std::string& prefix() const noexcept { return prefix_; }
  const std::string& file() const noexcept { return file_; }

  struct Source;

 private:
  std::shared_ptr<const Source> source_;
  std::string prefix_;
  std::string file_;
};

}  // namespace skillmatch
