// model.safetensors: the header reader. Every tensor of a file that opens must lie inside the
// file, and writing the tensors again (write_safetensors) must give a file that opens with the
// same tensors.
#include "skillmatch/model/safetensors.h"
#include "fuzz_util.h"
#include "skillmatch/model/model_folder.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("in/model.safetensors", fuzz::as_text(data, size));
  try {
    const SafetensorsFile f = SafetensorsFile::open(path);
    for (const TensorInfo& t : f.tensors()) {
      FUZZ_CHECK(f.find(t.name) == &t);
      FUZZ_CHECK(t.offset >= 8 && t.offset <= size && t.nbytes <= size - t.offset);
      FUZZ_CHECK(static_cast<std::size_t>(t.numel()) * tensor_dtype_size(t.dtype) == t.nbytes);
      for (const auto d : t.shape) FUZZ_CHECK(d >= 0);
      t.shape_string();
    }
    const auto out = fuzz::scratch_dir() / "out.safetensors";
    write_safetensors(out, weight_tensors(f), f.metadata());
    const SafetensorsFile again = SafetensorsFile::open(out);
    FUZZ_CHECK(again.tensors().size() == f.tensors().size());
    FUZZ_CHECK(again.metadata() == f.metadata());
    for (const TensorInfo& t : f.tensors()) {
      const TensorInfo* u = again.find(t.name);
      FUZZ_CHECK(u && u->dtype == t.dtype && u->shape == t.shape && u->nbytes == t.nbytes);
    }
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
