// Evaluation sets in sentence-transformers' triples layout (JSON Lines with anchor/query,
// positive, negative, id), resolved against the sample skills.
#include "dataset_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("triples.jsonl", fuzz::as_text(data, size));
  fuzz::check_dataset(path, DatasetFormat::kTriples);
  return 0;
}
