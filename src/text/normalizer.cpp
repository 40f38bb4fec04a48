#include "text/normalizer.h"

#include <cstring>

#include "skillmatch/core/error.h"

namespace skillmatch::text {
namespace {

constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";  // U+2581

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

}  // namespace

Normalizer::Normalizer(const NormalizerSpec& spec, bool treat_whitespace_as_suffix,
                       std::vector<std::string> user_defined, const std::string& what)
    : spec_(spec), suffix_(treat_whitespace_as_suffix), user_defined_(std::move(user_defined)) {
  if (spec_.precompiled_charsmap.empty()) return;
  charsmap_ = CharsMap(spec_.precompiled_charsmap, what, false);
  spec_.precompiled_charsmap.clear();
}

std::pair<std::string_view, std::size_t> Normalizer::normalize_prefix(
    std::string_view input) const {
  std::size_t best_user = 0;
  for (const auto& u : user_defined_) {
    if (u.size() > best_user && input.substr(0, u.size()) == u) best_user = u.size();
  }
  if (best_user > 0) return {input.substr(0, best_user), best_user};

  auto [replacement, length] = charsmap_.longest(input);
  if (length == 0) {
    std::size_t n = std::min(utf8_char_len(static_cast<unsigned char>(input[0])), input.size());
    return {input.substr(0, n), n};
  }
  return {replacement, length};
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
