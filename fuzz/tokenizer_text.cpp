// The texts a tokenizer takes: fixed, real tokenizers (the fixture's sentencepiece.bpe.model and
// the tokenizer.json files of both converter layouts) with fuzzed texts. The input is text A,
// optionally a line "----" and text B (the second text of a pair); each is tried as it is and,
// when it is not valid UTF-8, with the invalid bytes replaced.
#include <memory>
#include <vector>

#include "fuzz_util.h"
#include "skillmatch/text/tokenizer.h"
#include "tokenizer_checks.h"

using namespace skillmatch;

namespace {

const std::vector<Tokenizer>& tokenizers() {
  static const std::vector<Tokenizer> all = {
      Tokenizer::load(SKILLMATCH_FUZZ_FIXTURES "/tokenizer/sentencepiece.bpe.model"),
      Tokenizer::load(SKILLMATCH_FUZZ_DATA "/tokenizer_json/current/tokenizer.json"),
      Tokenizer::load(SKILLMATCH_FUZZ_DATA "/tokenizer_json/legacy/tokenizer.json"),
  };
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_parts(fuzz::as_text(data, size), 2);
  const std::string a = fuzz::to_valid_utf8(parts[0]), b = fuzz::to_valid_utf8(parts[1]);
  for (const Tokenizer& t : tokenizers()) {
    fuzz::check_tokenizer(t, parts[0], parts[1], 512);
    if (a != parts[0] || b != parts[1]) fuzz::check_tokenizer(t, a, b, 512);
    fuzz::check_tokenizer(t, a, b, 5);
  }
  return 0;
}
