// Evaluation sets as a labels CSV (text, label), resolved against the sample skills.
#include "dataset_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("labels.csv", fuzz::as_text(data, size));
  fuzz::check_dataset(path, DatasetFormat::kLabels);
  return 0;
}
