// sentencepiece.bpe.model: the SentencePiece model reader and the tokenizer it builds. Every model
// that loads must encode, pair, decode and look up the sample texts.
#include "fuzz_util.h"
#include "skillmatch/text/tokenizer.h"
#include "tokenizer_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_scratch("sentencepiece.bpe.model", fuzz::as_text(data, size));
  try {
    const Tokenizer t = Tokenizer::load(path);
    FUZZ_CHECK(t.source() == TokenizerSource::kSentencePiece);
    fuzz::check_tokenizer_on_samples(t);
  } catch (const Error& e) {
    fuzz::expect_error(e, path.string());
  }
  return 0;
}
