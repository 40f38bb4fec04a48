// Evaluation sets in BEIR's layout, resolved against the sample skills. The input holds three
// parts separated by lines "----": queries.jsonl, corpus.jsonl and qrels/test.tsv.
#include "dataset_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_parts(fuzz::as_text(data, size), 3);
  const auto dir = fuzz::fresh_dir("beir");
  fuzz::write_scratch("beir/queries.jsonl", parts[0]);
  fuzz::write_scratch("beir/corpus.jsonl", parts[1]);
  fuzz::write_scratch("beir/qrels/test.tsv", parts[2]);
  fuzz::check_dataset(dir, DatasetFormat::kBeir);
  return 0;
}
