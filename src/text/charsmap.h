// SentencePiece's precompiled character map: a Darts-clone double-array trie of rewrite rules
// followed by their NUL-terminated replacement strings. Two readers use it differently:
// SentencePiece rewrites the longest rule matching at each position; Hugging Face's Precompiled
// normalizer (tokenizers, spm_precompiled) works on extended grapheme clusters and takes the
// shortest rule matching a prefix of the cluster as the replacement of the whole cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skillmatch::text {

class CharsMap {
 public:
  CharsMap() = default;
  // Parses a serialized map. Throws kCorrupt naming `what` if the layout is broken, or (with
  // `require_utf8`, as Hugging Face's reader requires) if the replacement strings are not UTF-8.
  CharsMap(std::string_view blob, const std::string& what, bool require_utf8);

  bool empty() const noexcept { return trie_.empty(); }
  // The serialized map as it was read.
  const std::string& blob() const noexcept { return blob_; }

  // SentencePiece: the replacement of the longest rule matching a prefix of `input` and the number
  // of bytes it consumes; {"", 0} if no rule matches.
  std::pair<std::string_view, std::size_t> longest(std::string_view input) const;

  // Hugging Face (spm_precompiled's transform): the replacement of the shortest rule matching a
  // prefix of `input`; the search stops at a NUL byte.
  std::optional<std::string_view> shortest(std::string_view input) const;

  // Hugging Face's Precompiled normalizer on valid UTF-8: every extended grapheme cluster shorter
  // than 6 bytes that `shortest` matches is replaced whole; other clusters are rewritten
  // character by character.
  std::string normalize_graphemes(std::string_view input) const;

 private:
  // Calls visit(value, length) for each rule that is a prefix of `input`, shortest first, until
  // visit returns false.
  template <class Visit>
  void prefixes(std::string_view input, bool stop_at_nul, Visit&& visit) const;
  std::string_view replacement(std::uint32_t value) const;

  std::vector<std::uint32_t> trie_;  // Darts-clone units
  std::string replacements_;         // NUL-separated normalized strings
  std::string what_;
  std::string blob_;
};

}  // namespace skillmatch::text
