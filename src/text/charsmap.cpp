#include "text/charsmap.h"

#include "skillmatch/core/error.h"
#include "skillmatch/core/utf8.h"
#include "text/unicode.h"

namespace skillmatch::text {
namespace {

// Darts-clone unit layout.
inline bool unit_has_leaf(std::uint32_t u) {
  return (u >> 8) & 1;
}
inline std::uint32_t unit_value(std::uint32_t u) {
  return u & ((1u << 31) - 1);
}
inline std::uint32_t unit_label(std::uint32_t u) {
  return u & ((1u << 31) | 0xff);
}
inline std::uint32_t unit_offset(std::uint32_t u) {
  return (u >> 10) << ((u & (1u << 9)) >> 6);
}

}  // namespace

CharsMap::CharsMap(std::string_view blob, const std::string& what, bool require_utf8)
    : what_(what), blob_(blob) {
  SM_CHECK(blob.size() > 4, ErrorKind::kCorrupt, what + ": precompiled character map too short");
  std::uint32_t trie_size = 0;
  for (int i = 3; i >= 0; --i) trie_size = (trie_size << 8) | static_cast<unsigned char>(blob[i]);
  SM_CHECK(trie_size < blob.size() - 4 && trie_size % 4 == 0 && trie_size > 0, ErrorKind::kCorrupt,
           what + ": precompiled character map has a bad trie size");
  trie_.resize(trie_size / 4);
  for (std::size_t i = 0; i < trie_.size(); ++i) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(blob.data()) + 4 + 4 * i;
    trie_[i] = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
  }
  replacements_ = std::string(blob.substr(4 + trie_size));
  SM_CHECK(!replacements_.empty() && replacements_.back() == '\0', ErrorKind::kCorrupt,
           what + ": precompiled character map strings are not NUL-terminated");
  SM_CHECK(!require_utf8 || is_valid_utf8(replacements_), ErrorKind::kCorrupt,
           what + ": precompiled character map strings are not valid UTF-8");
}

template <class Visit>
void CharsMap::prefixes(std::string_view input, bool stop_at_nul, Visit&& visit) const {
  if (trie_.empty()) return;
  std::size_t node = 0;
  std::uint32_t unit = trie_[node];
  node ^= unit_offset(unit);
  for (std::size_t i = 0; i < input.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    if (stop_at_nul && c == 0) return;
    node ^= c;
    if (node >= trie_.size()) return;
    unit = trie_[node];
    if (unit_label(unit) != c) return;
    node ^= unit_offset(unit);
    if (node >= trie_.size()) return;
    if (unit_has_leaf(unit) && !visit(unit_value(trie_[node]), i + 1)) return;
  }
}

std::string_view CharsMap::replacement(std::uint32_t value) const {
  SM_CHECK(value < replacements_.size(), ErrorKind::kCorrupt,
           what_ + ": precompiled character map points outside its strings");
  return std::string_view(replacements_.data() + value);
}

std::pair<std::string_view, std::size_t> CharsMap::longest(std::string_view input) const {
  std::uint32_t best_value = 0;
  std::size_t best_length = 0;
  prefixes(input, false, [&](std::uint32_t value, std::size_t length) {
    best_value = value;
    best_length = length;
    return true;
  });
  if (best_length == 0) return {std::string_view(), 0};
  return {replacement(best_value), best_length};
}

std::optional<std::string_view> CharsMap::shortest(std::string_view input) const {
  std::optional<std::uint32_t> found;
  prefixes(input, true, [&](std::uint32_t value, std::size_t) {
    found = value;
    return false;
  });
  if (!found) return std::nullopt;
  return replacement(*found);
}

std::string CharsMap::normalize_graphemes(std::string_view input) const {
  std::string out;
  out.reserve(input.size() + input.size() / 4);
  for (std::size_t i = 0; i < input.size();) {
    const std::size_t g = grapheme_length(input, i);
    const std::string_view cluster = input.substr(i, g);
    i += g;
    if (cluster.size() < 6) {
      if (auto norm = shortest(cluster)) {
        out.append(*norm);
        continue;
      }
    }
    for (std::size_t k = 0; k < cluster.size();) {
      std::size_t n = 0;
      decode_utf8(cluster, k, &n);
      const std::string_view ch = cluster.substr(k, n);
      if (auto norm = shortest(ch)) {
        out.append(*norm);
      } else {
        out.append(ch);
      }
      k += n;
    }
  }
  return out;
}

}  // namespace skillmatch::text
