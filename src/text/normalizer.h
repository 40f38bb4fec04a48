// SentencePiece's text normalizer: precompiled character map (a Darts double-array trie of
// rewrite rules), leading/trailing/repeated whitespace removal, dummy prefix and U+2581 escaping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/charsmap.h"
#include "text/sentencepiece_model.h"

namespace skillmatch::text {

class Normalizer {
 public:
  // `user_defined` are the model's user-defined pieces, matched whole before any rewrite.
  // Throws kCorrupt if the precompiled character map is malformed.
  Normalizer(const NormalizerSpec& spec, bool treat_whitespace_as_suffix,
             std::vector<std::string> user_defined, const std::string& what);

  // Normalizes valid UTF-8 `input`.
  std::string normalize(std::string_view input) const;

 private:
  // The normalized form of the longest rule matching a prefix of `input`, and the number of
  // input bytes it consumes.
  std::pair<std::string_view, std::size_t> normalize_prefix(std::string_view input) const;

  NormalizerSpec spec_;
  bool suffix_ = false;
  std::vector<std::string> user_defined_;
  CharsMap charsmap_;
};

// Byte length of the UTF-8 character starting with byte `c`, as SentencePiece computes it.
inline std::size_t utf8_char_len(unsigned char c) {
  return "\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[c >> 4];
}

}  // namespace skillmatch::text
