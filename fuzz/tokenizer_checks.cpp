#include "tokenizer_checks.h"

#include <string>

#include "fuzz_util.h"
#include "skillmatch/core/error.h"

namespace skillmatch::fuzz {
namespace {

void check_ids(const Tokenizer& t, const TokenIds& ids) {
  for (const auto id : ids) FUZZ_CHECK(id >= 0 && id < t.vocab_size());
}

}  // namespace

void check_tokenizer(const Tokenizer& t, std::string_view a, std::string_view b,
                     std::size_t max_length) {
  try {
    const TokenIds ids = t.encode_pieces(a);
    check_ids(t, ids);
    FUZZ_CHECK(t.pieces(a).size() == ids.size());
    t.decode(ids);
    t.decode(ids, false);
  } catch (const Error& e) {
    expect_error(e);
  }
  try {
    const TokenIds ids = t.encode(a, max_length);
    check_ids(t, ids);
    FUZZ_CHECK(ids.size() <= max_length);
  } catch (const Error& e) {
    expect_error(e);
  }
  try {
    const TokenIds ids = t.encode_pair(a, b, max_length);
    check_ids(t, ids);
    FUZZ_CHECK(ids.size() <= max_length);
    t.decode(ids);
  } catch (const Error& e) {
    expect_error(e);
  }
}

void check_tokenizer_on_samples(const Tokenizer& t) {
  static const char* const kTexts[] = {
      "",
      " ",
      "\t\n\r\xEF\xBB\xBF",
      "Kurs: Excel-Grundlagen f\xC3\xBCr Einsteiger  (2 Tage)",
      "  doppelte   Leerzeichen\xE3\x80\x80und\xC2\xA0"
      "Ende ",
      "<s> <mask> </s><pad><unk>x<mask>",
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83"
      "\x88",  // Japanese
      "\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C \xE2\x91\xA0 \xEF\xAC\x81 \xE2\x84\xAB",
      "e\xCC\x81 \xF0\x9F\x87\xA9\xF0\x9F\x87\xAA \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
      "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7 \xEA\xB0\x80\xE1\x86\xA8 \r\n\x7F\x01",
      "Donaudampfschifffahrtsgesellschaftskapit\xC3\xA4nsm\xC3\xBCtze",
      "\xE2\x96\x81\xE2\x96\x81 \xE2\x96\x81x",
  };
  const std::size_t n = sizeof kTexts / sizeof kTexts[0];
  for (std::size_t i = 0; i < n; ++i) {
    // A tokenizer that gives up on a text (a regex past its step bound) is not run on the
    // others, which would only take as long again.
    try {
      t.encode_pieces(kTexts[i]);
    } catch (const Error& e) {
      expect_error(e);
      if (e.kind() == ErrorKind::kUnsupported) return;
    }
    check_tokenizer(t, kTexts[i], kTexts[(i + 3) % n], 512);
    check_tokenizer(t, kTexts[i], kTexts[(i + 5) % n], 6);
  }
  // Lookups: the first ids and the last, a piece's id back, an id outside the vocabulary.
  const std::int32_t size = t.vocab_size();
  for (std::int32_t id : {0, 1, 2, 3, 4, 5, size / 2, size - 2, size - 1, size, -1}) {
    try {
      const std::string piece = t.id_to_piece(id);
      FUZZ_CHECK(id >= 0 && id < size);
      FUZZ_CHECK(t.token_to_id(piece).has_value());
    } catch (const Error& e) {
      expect_error(e);
    }
  }
  t.mask_id();
  t.decode({-5, 0, size, size - 1, 1, 2, 3});
}

}  // namespace skillmatch::fuzz
