// pytorch_model.bin: PyTorch's zip checkpoint, read through torch::pickle_load by the model
// loader's WeightSource. The anchor tensor of a state dict that loads is fetched in float32 and
// bfloat16 with the shape of the seed files ([4, 2]).
#include <ATen/ATen.h>

#include "fuzz_util.h"
#include "model/weights.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = fuzz::fresh_dir("bin");
  fuzz::write_scratch("bin/pytorch_model.bin", fuzz::as_text(data, size));
  try {
    const WeightSource w = WeightSource::open(dir, "embeddings.word_embeddings.weight");
    FUZZ_CHECK(w.has("embeddings.word_embeddings.weight"));
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      try {
        const at::Tensor t = w.get("embeddings.word_embeddings.weight", {4, 2}, dtype);
        FUZZ_CHECK(t.scalar_type() == dtype && t.is_contiguous() && t.numel() == 8);
      } catch (const Error& e) {
        fuzz::expect_error(e, dir.string());
      }
    }
    w.unprefixed().has("classifier.out_proj.weight");
  } catch (const Error& e) {
    fuzz::expect_error(e, dir.string());
  }
  return 0;
}
