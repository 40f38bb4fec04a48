#include "text/unicode.h"

#include <algorithm>

namespace skillmatch::text {
namespace {

std::uint8_t lookup(const tables::PropertyRange* table, std::size_t size, char32_t cp) {
  const tables::PropertyRange* end = table + size;
  const tables::PropertyRange* it = std::upper_bound(
      table, end, cp, [](char32_t c, const tables::PropertyRange& r) { return c < r.first; });
  if (it == table) return 0;
  --it;
  return cp <= it->last ? it->value : 0;
}

// Indic_Conjunct_Break=Linker (Unicode 15.1): the viramas of Bengali, Devanagari, Gujarati,
// Malayalam, Oriya and Telugu.
bool is_conjunct_linker(char32_t cp) {
  return cp == 0x094D || cp == 0x09CD || cp == 0x0ACD || cp == 0x0B4D || cp == 0x0C4D ||
         cp == 0x0D4D;
}

bool is_conjunct_consonant(char32_t cp) {
  return lookup(tables::kConjunctConsonant, tables::kConjunctConsonantSize, cp) != 0;
}

}  // namespace

char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t* len) {
  const auto b = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[k]));
  };
  const char32_t c = b(i);
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  if (c < 0xE0) {
    *len = 2;
    return ((c & 0x1F) << 6) | (b(i + 1) & 0x3F);
  }
  if (c < 0xF0) {
    *len = 3;
    return ((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
  }
  *len = 4;
  return ((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
         (b(i + 3) & 0x3F);
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_white_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

bool is_word_char(char32_t cp) {
  return lookup(tables::kWord, tables::kWordSize, cp) != 0;
}

GraphemeBreak grapheme_break(char32_t cp) {
  return static_cast<GraphemeBreak>(lookup(tables::kGraphemeBreak, tables::kGraphemeBreakSize, cp));
}

bool is_extended_pictographic(char32_t cp) {
  return lookup(tables::kExtendedPictographic, tables::kExtendedPictographicSize, cp) != 0;
}

std::size_t grapheme_length(std::string_view s, std::size_t i) {
  using G = GraphemeBreak;
  std::size_t len = 0;
  char32_t cp = decode_utf8(s, i, &len);
  G prev = grapheme_break(cp);
  std::size_t pos = i + len;
  // GB11: an Extended_Pictographic, then Extend*, then ZWJ.
  bool pict = is_extended_pictographic(cp);
  bool pict_zwj = false;
  // GB12/13: regional indicators in this cluster so far.
  int regional = prev == G::kRegionalIndicator ? 1 : 0;
  // GB9c: 0 nothing, 1 a consonant then Extend/Linker without a Linker, 2 with a Linker.
  int conjunct = is_conjunct_consonant(cp) ? 1 : 0;
  if (prev == G::kCR || prev == G::kLF || prev == G::kControl) {
    if (prev == G::kCR && pos < s.size() && s[pos] == '\n') return 2;  // GB3
    return len;                                                        // GB4
  }
  while (pos < s.size()) {
    std::size_t n = 0;
    const char32_t next_cp = decode_utf8(s, pos, &n);
    const G next = grapheme_break(next_cp);
    bool join = false;
    if (next == G::kCR || next == G::kLF || next == G::kControl) {
      join = false;  // GB5
    } else if (prev == G::kL &&
               (next == G::kL || next == G::kV || next == G::kLV || next == G::kLVT)) {
      join = true;  // GB6
    } else if ((prev == G::kLV || prev == G::kV) && (next == G::kV || next == G::kT)) {
      join = true;  // GB7
    } else if ((prev == G::kLVT || prev == G::kT) && next == G::kT) {
      join = true;  // GB8
    } else if (next == G::kExtend || next == G::kZWJ || next == G::kSpacingMark ||
               prev == G::kPrepend) {
      join = true;  // GB9, GB9a, GB9b
    } else if (conjunct == 2 && is_conjunct_consonant(next_cp)) {
      join = true;  // GB9c
    } else if (pict_zwj && is_extended_pictographic(next_cp)) {
      join = true;  // GB11
    } else if (prev == G::kRegionalIndicator && next == G::kRegionalIndicator) {
      join = regional % 2 == 1;  // GB12, GB13
    }
    if (!join) break;

    // Update the states for the rules that look further back.
    const bool next_pict = is_extended_pictographic(next_cp);
    if (next == G::kZWJ) {
      pict_zwj = pict;
      pict = false;
    } else {
      pict_zwj = false;
      if (next != G::kExtend) pict = next_pict;
    }
    regional = next == G::kRegionalIndicator ? regional + 1 : 0;
    if (is_conjunct_consonant(next_cp)) {
      conjunct = 1;
    } else if (is_conjunct_linker(next_cp)) {
      if (conjunct != 0) conjunct = 2;
    } else if (next != G::kExtend && next != G::kZWJ) {
      conjunct = 0;
    }
    prev = next;
    pos += n;
  }
  return pos - i;
}

}  // namespace skillmatch::text
