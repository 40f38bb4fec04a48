#include "model/weights.h"

#include <cstring>
#include <map>

#include <torch/serialize.h>

#include "model/kernels.h"
#include "model/torch_checkpoint.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/model/safetensors.h"

namespace fs = std::filesystem;

namespace skillmatch {

// Either a memory-mapped safetensors file or the tensors of a pickled state dict.
struct WeightSource::Source {
  std::unique_ptr<SafetensorsFile> safetensors;
  std::map<std::string, at::Tensor> pickled;

  bool has(const std::string& name) const {
    return safetensors ? safetensors->find(name) != nullptr : pickled.count(name) > 0;
  }
};

namespace {

at::ScalarType torch_dtype(TensorDType dt, const std::string& where) {
  switch (dt) {
    case TensorDType::kF32:
      return at::kFloat;
    case TensorDType::kF16:
      return at::kHalf;
    case TensorDType::kBF16:
      return at::kBFloat16;
    case TensorDType::kF64:
      return at::kDouble;
    default:
      break;
  }
  throw Error(ErrorKind::kUnsupported,
              where + " has dtype " + tensor_dtype_name(dt) + "; weights must be F32, F16 or BF16");
}

std::map<std::string, at::Tensor> load_pickled_state_dict(const fs::path& file) {
  const char* const convert =
      "; convert it to model.safetensors, e.g. with "
      "safetensors.torch.save_file(torch.load(path), 'model.safetensors')";
  // libtorch trusts the sizes a checkpoint states; skillmatch's own readers check them first.
  try {
    check_torch_checkpoint(file);
  } catch (const Error& e) {
    throw Error(
        e.kind() == ErrorKind::kIo ? ErrorKind::kIo : ErrorKind::kUnsupported,
        std::string(e.what()) + ": skillmatch cannot read this PyTorch checkpoint" + convert);
  }
  std::string bytes = read_file(file);
  std::vector<char> data(bytes.begin(), bytes.end());
  bytes.clear();
  c10::IValue value;
  try {
    value = torch::pickle_load(data);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    throw Error(ErrorKind::kUnsupported,
                file.string() + ": cannot read this PyTorch checkpoint (" + msg + ")" + convert);
  }
  SM_CHECK(value.isGenericDict(), ErrorKind::kUnsupported,
           file.string() + ": the checkpoint is not a state dict of tensors");
  std::map<std::string, at::Tensor> out;
  for (const auto& item : value.toGenericDict()) {
    if (item.key().isString() && item.value().isTensor()) {
      out[item.key().toStringRef()] = item.value().toTensor();
    }
  }
  return out;
}

}  // namespace

WeightSource WeightSource::open(const fs::path& dir, const std::string& anchor) {
  WeightSource w;
  auto src = std::make_shared<Source>();
  const fs::path st = dir / "model.safetensors";
  const fs::path bin = dir / "pytorch_model.bin";
  if (fs::exists(st)) {
    src->safetensors = std::make_unique<SafetensorsFile>(SafetensorsFile::open(st));
    w.file_ = st.string();
  } else if (fs::exists(bin)) {
    src->pickled = load_pickled_state_dict(bin);
    w.file_ = bin.string();
  } else if (fs::exists(dir / "model.safetensors.index.json") ||
             fs::exists(dir / "pytorch_model.bin.index.json")) {
    throw Error(ErrorKind::kUnsupported,
                dir.string() +
                    ": sharded checkpoints (*.index.json) are not supported; "
                    "merge the shards into one model.safetensors");
  } else {
    throw Error(ErrorKind::kNotFound,
                dir.string() + ": no model.safetensors or pytorch_model.bin in the model folder");
  }
  for (const char* prefix : {"", "roberta.", "xlm_roberta.", "model.", "bert."}) {
    if (src->has(prefix + anchor)) {
      w.prefix_ = prefix;
      w.source_ = std::move(src);
      return w;
    }
  }
  throw Error(ErrorKind::kNotFound,
              w.file_ + ": tensor " + anchor +
                  " not found (with or without a roberta. prefix); is this an XLM-R model?");
}

at::Tensor WeightSource::map(const std::string& name, const std::vector<std::int64_t>& shape,
                             at::ScalarType dtype) const {
  if (!source_->safetensors) return {};
  const TensorInfo* info = source_->safetensors->find(prefix_ + name);
  if (!info || info->shape != shape) return {};
  if ((info->dtype != TensorDType::kF32 || dtype != at::kFloat) &&
      (info->dtype != TensorDType::kBF16 || dtype != at::kBFloat16)) {
    return {};
  }
  const std::uint8_t* p = source_->safetensors->data(*info);
  if (reinterpret_cast<std::uintptr_t>(p) % at::elementSize(dtype) != 0) return {};
  std::shared_ptr<const Source> keep = source_;
  return at::from_blob(
      const_cast<std::uint8_t*>(p), shape, [keep](void*) {}, at::TensorOptions().dtype(dtype));
}

bool WeightSource::has(const std::string& name) const {
  return source_->has(prefix_ + name);
}

at::Tensor WeightSource::get(const std::string& name, const std::vector<std::int64_t>& shape,
                             at::ScalarType dtype) const {
  const std::string full = prefix_ + name;
  const std::string where = file_ + ": tensor " + full;
  at::Tensor t;
  if (source_->safetensors) {
    const TensorInfo* info = source_->safetensors->find(full);
    SM_CHECK(info != nullptr, ErrorKind::kNotFound, where + " is missing");
    SM_CHECK(info->shape == shape, ErrorKind::kCorrupt,
             where + " has shape " + info->shape_string() + ", expected " + format_shape(shape));
    // Copy into an owned, aligned tensor: the mapping may be unaligned and is read-only.
    t = at::empty(info->shape, at::TensorOptions().dtype(torch_dtype(info->dtype, where)));
    std::memcpy(t.data_ptr(), source_->safetensors->data(*info), info->nbytes);
  } else {
    auto it = source_->pickled.find(full);
    SM_CHECK(it != source_->pickled.end(), ErrorKind::kNotFound, where + " is missing");
    t = it->second;
    SM_CHECK(at::isFloatingType(t.scalar_type()), ErrorKind::kUnsupported,
             where + " is not a floating-point tensor");
    std::vector<std::int64_t> got(t.sizes().begin(), t.sizes().end());
    SM_CHECK(got == shape, ErrorKind::kCorrupt,
             where + " has shape " + format_shape(got) + ", expected " + format_shape(shape));
  }
  // One copy when the file already has the compute type, one conversion otherwise; a pickled
  // tensor is copied so that it owns compact storage of its own.
  if (t.scalar_type() == dtype) return source_->safetensors ? t : t.contiguous().clone();
  if (t.scalar_type() == at::kFloat && dtype == at::kBFloat16) return float_to_bfloat16(t);
  return t.to(dtype).contiguous();
}

}  // namespace skillmatch
