#include "skillmatch/model/safetensors.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

// A header larger than this is not a weight file (the real ones are a few hundred KiB).
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

bool parse_dtype(const std::string& s, TensorDType* out) {
  static const std::pair<const char*, TensorDType> table[] = {
      {"F64", TensorDType::kF64},   {"F32", TensorDType::kF32}, {"F16", TensorDType::kF16},
      {"BF16", TensorDType::kBF16}, {"I64", TensorDType::kI64}, {"I32", TensorDType::kI32},
      {"I16", TensorDType::kI16},   {"I8", TensorDType::kI8},   {"U8", TensorDType::kU8},
      {"BOOL", TensorDType::kBool}};
  for (const auto& [name, dt] : table) {
    if (s == name) {
      *out = dt;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* tensor_dtype_name(TensorDType dtype) noexcept {
  switch (dtype) {
    case TensorDType::kF64:
      return "F64";
    case TensorDType::kF32:
      return "F32";
    case TensorDType::kF16:
      return "F16";
    case TensorDType::kBF16:
      return "BF16";
    case TensorDType::kI64:
      return "I64";
    case TensorDType::kI32:
      return "I32";
    case TensorDType::kI16:
      return "I16";
    case TensorDType::kI8:
      return "I8";
    case TensorDType::kU8:
      return "U8";
    case TensorDType::kBool:
      return "BOOL";
  }
  return "?";
}

std::size_t tensor_dtype_size(TensorDType dtype) noexcept {
  switch (dtype) {
    case TensorDType::kF64:
    case TensorDType::kI64:
      return 8;
    case TensorDType::kF32:
    case TensorDType::kI32:
      return 4;
    case TensorDType::kF16:
    case TensorDType::kBF16:
    case TensorDType::kI16:
      return 2;
    case TensorDType::kI8:
    case TensorDType::kU8:
    case TensorDType::kBool:
      return 1;
  }
  return 1;
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_string() const {
  return format_shape(shape);
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  require_file(path, "weight file");
  SafetensorsFile f;
  f.file_ = std::make_shared<MappedFile>(path);
  const std::string what = path.string();
  const std::size_t size = f.file_->size();
  const std::uint8_t* base = f.file_->data();
  SM_CHECK(size >= 8, ErrorKind::kCorrupt,
           what + ": truncated safetensors file (" + std::to_string(size) + " bytes, no header)");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  SM_CHECK(header_len <= kMaxHeaderBytes && header_len <= size - 8, ErrorKind::kCorrupt,
           what + ": safetensors header length " + std::to_string(header_len) +
               " exceeds the file size " + std::to_string(size) +
               " (truncated or not a safetensors file)");
  const std::size_t data_start = 8 + static_cast<std::size_t>(header_len);
  const std::size_t data_size = size - data_start;

  nlohmann::json header;
  try {
    header = parse_json(std::string_view(reinterpret_cast<const char*>(base + 8),
                                         static_cast<std::size_t>(header_len)));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kCorrupt,
                what + ": safetensors header is not valid JSON: " + json_error_message(e));
  }
  SM_CHECK(header.is_object(), ErrorKind::kCorrupt,
           what + ": safetensors header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (it->is_object()) {
        for (auto m = it->begin(); m != it->end(); ++m) {
          if (m->is_string()) f.metadata_[m.key()] = m->get<std::string>();
        }
      }
      continue;
    }
    const std::string where = what + ": tensor " + name;
    const nlohmann::json& e = *it;
    SM_CHECK(
        e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"),
        ErrorKind::kCorrupt, where + ": header entry lacks dtype, shape or data_offsets");
    TensorInfo info;
    info.name = name;
    SM_CHECK(e["dtype"].is_string() && parse_dtype(e["dtype"].get<std::string>(), &info.dtype),
             ErrorKind::kCorrupt, where + ": unknown dtype " + json_preview(e["dtype"]));
    const auto& shape = e["shape"];
    SM_CHECK(shape.is_array(), ErrorKind::kCorrupt, where + ": shape is not a list");
    std::uint64_t numel = 1;
    for (const auto& d : shape) {
      SM_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<std::int64_t>() >= 0),
               ErrorKind::kCorrupt, where + ": shape " + json_preview(shape) + " is not valid");
      auto v = d.get<std::uint64_t>();
      SM_CHECK(v == 0 || numel <= std::numeric_limits<std::uint64_t>::max() / v / 8,
               ErrorKind::kCorrupt, where + ": shape " + json_preview(shape) + " is too large");
      numel *= v;
      info.shape.push_back(static_cast<std::int64_t>(v));
    }
    const auto& off = e["data_offsets"];
    SM_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                 off[1].is_number_unsigned(),
             ErrorKind::kCorrupt,
             where + ": data_offsets " + json_preview(off) + " is not [begin, end]");
    const auto begin = off[0].get<std::uint64_t>();
    const auto end = off[1].get<std::uint64_t>();
    SM_CHECK(begin <= end && end <= data_size, ErrorKind::kCorrupt,
             where + ": data [" + std::to_string(begin) + ", " + std::to_string(end) +
                 ") lies outside the " + std::to_string(data_size) +
                 " data bytes of the file (truncated file?)");
    const std::uint64_t expected = numel * tensor_dtype_size(info.dtype);
    SM_CHECK(end - begin == expected, ErrorKind::kCorrupt,
             where + ": " + std::to_string(end - begin) + " bytes for shape " +
                 info.shape_string() + " of " + tensor_dtype_name(info.dtype) + ", expected " +
                 std::to_string(expected));
    info.offset = data_start + static_cast<std::size_t>(begin);
    info.nbytes = static_cast<std::size_t>(end - begin);
    f.tensors_.push_back(std::move(info));
  }

  std::vector<const TensorInfo*> by_offset;
  for (const auto& t : f.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo* prev = by_offset[i - 1];
    SM_CHECK(prev->offset + prev->nbytes <= by_offset[i]->offset, ErrorKind::kCorrupt,
             what + ": tensors " + prev->name + " and " + by_offset[i]->name + " overlap");
  }
  for (std::size_t i = 0; i < f.tensors_.size(); ++i) f.by_name_[f.tensors_[i].name] = i;
  return f;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace skillmatch
