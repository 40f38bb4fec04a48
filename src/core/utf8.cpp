#include "skillmatch/core/utf8.h"

#include <cstdint>
#include <string>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

constexpr std::size_t kValid = static_cast<std::size_t>(-1);

// Offset of the first byte that starts an invalid sequence; kValid if there is none.
std::size_t first_invalid_byte(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
      return i;
    }
    i += len;
  }
  return kValid;
}

}  // namespace

void validate_utf8(std::string_view text) {
  const std::size_t at = first_invalid_byte(text);
  SM_CHECK(at == kValid, ErrorKind::kInvalidArgument,
           "invalid UTF-8 at byte " + std::to_string(at));
}

bool is_valid_utf8(std::string_view text) noexcept {
  return first_invalid_byte(text) == kValid;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  std::size_t n = max_bytes;
  // Back off continuation bytes: the cut then falls before the character they belong to.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) --n;
  return text.substr(0, n);
}

}  // namespace skillmatch
