// pytorch_model.bin: PyTorch's zip checkpoint as the model loader's WeightSource reads it (the
// checkpoint check, then torch::pickle_load). An input that starts with "PK" is the checkpoint
// itself. Any other is archive/data.pkl and the storage records archive/data/0, 1, ... as parts
// separated by lines "----", stored in a valid archive with archive/version: mutated archives
// rarely pass their CRCs, so this is how mutated pickles reach the check and libtorch. The anchor
// tensor of a state dict that loads is fetched in float32 and bfloat16 with the shape of the
// seeds ([4, 2]).
#include <ATen/ATen.h>

#include "fuzz_util.h"
#include "model/weights.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  std::string archive;
  if (input.substr(0, 2) != "PK") {
    const auto parts = fuzz::split_parts(input, 8);
    std::vector<std::pair<std::string, std::string_view>> entries = {
        {"archive/data.pkl", parts[0]}};
    for (std::size_t i = 1; i < parts.size() && !parts[i].empty(); ++i) {
      entries.emplace_back("archive/data/" + std::to_string(i - 1), parts[i]);
    }
    entries.emplace_back("archive/version", "3\n");
    archive = fuzz::stored_zip(entries);
  }
  const auto dir = fuzz::fresh_dir("bin");
  fuzz::write_scratch("bin/pytorch_model.bin", archive.empty() ? input : archive);
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
