#include "text/normalizer.h"

#include <cstring>

#include "skillmatch/core/error.h"

namespace skillmatch::text {
namespace {

constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";  // U+2581

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

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

}  // namespace

Normalizer::Normalizer(const NormalizerSpec& spec, bool treat_whitespace_as_suffix,
                       std::vector<std::string> user_defined, const std::string& what)
    : spec_(spec), suffix_(treat_whitespace_as_suffix), user_defined_(std::move(user_defined)) {
  const std::string& blob = spec_.precompiled_charsmap;
  if (blob.empty()) return;
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
  replacements_ = blob.substr(4 + trie_size);
  SM_CHECK(!replacements_.empty() && replacements_.back() == '\0', ErrorKind::kCorrupt,
           what + ": precompiled character map strings are not NUL-terminated");
  spec_.precompiled_charsmap.clear();
}

std::pair<std::uint32_t, std::size_t> Normalizer::longest_rule(std::string_view input) const {
  std::pair<std::uint32_t, std::size_t> best{0, 0};
  if (trie_.empty()) return best;
  std::size_t node = 0;
  std::uint32_t unit = trie_[node];
  node ^= unit_offset(unit);
  for (std::size_t i = 0; i < input.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(input[i]);
    node ^= c;
    if (node >= trie_.size()) break;
    unit = trie_[node];
    if (unit_label(unit) != c) break;
    node ^= unit_offset(unit);
    if (node >= trie_.size()) break;
    if (unit_has_leaf(unit)) best = {unit_value(trie_[node]), i + 1};
  }
  return best;
}

std::pair<std::string_view, std::size_t> Normalizer::normalize_prefix(
    std::string_view input) const {
  std::size_t best_user = 0;
  for (const auto& u : user_defined_) {
    if (u.size() > best_user && input.substr(0, u.size()) == u) best_user = u.size();
  }
  if (best_user > 0) return {input.substr(0, best_user), best_user};

  auto [value, length] = longest_rule(input);
  if (length == 0) {
    std::size_t n = std::min(utf8_char_len(static_cast<unsigned char>(input[0])), input.size());
    return {input.substr(0, n), n};
  }
  SM_CHECK(value < replacements_.size(), ErrorKind::kCorrupt,
           "precompiled character map points outside its strings");
  return {std::string_view(replacements_.data() + value), length};
}

std::string Normalizer::normalize(std::string_view input) const {
  std::string out;
  if (spec_.remove_extra_whitespaces) {
    while (!input.empty()) {
      auto [sp, consumed] = normalize_prefix(input);
      if (sp != " ") break;
      input.remove_prefix(consumed);
    }
  }
  if (input.empty()) return out;
  out.reserve(input.size() * 3 / 2 + 4);

  auto add_ws = [&] { out.append(spec_.escape_whitespaces ? kSpaceSymbol : " "); };
  if (!suffix_ && spec_.add_dummy_prefix) add_ws();

  bool is_prev_space = spec_.remove_extra_whitespaces;
  while (!input.empty()) {
    auto [sp, consumed] = normalize_prefix(input);
    while (is_prev_space && !sp.empty() && sp.front() == ' ') sp.remove_prefix(1);
    if (!sp.empty()) {
      for (char c : sp) {
        if (spec_.escape_whitespaces && c == ' ') {
          out.append(kSpaceSymbol);
        } else {
          out.push_back(c);
        }
      }
      is_prev_space = sp.back() == ' ';
    }
    input.remove_prefix(consumed);
    if (!spec_.remove_extra_whitespaces) is_prev_space = false;
  }

  if (spec_.remove_extra_whitespaces) {
    std::string_view space = spec_.escape_whitespaces ? kSpaceSymbol : " ";
    while (ends_with(out, space)) out.resize(out.size() - space.size());
  }
  if (suffix_ && spec_.add_dummy_prefix) add_ws();
  return out;
}

}  // namespace skillmatch::text
