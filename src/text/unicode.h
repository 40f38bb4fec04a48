// The Unicode properties and segmentation that Hugging Face's tokenizers relies on: extended
// grapheme clusters (UAX #29, as the Rust crate unicode-segmentation finds them), White_Space
// (Rust's char::is_whitespace, regex \s) and regex \w. Pure functions on valid UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace skillmatch::text {

// Decodes the code point starting at `s[i]` (valid UTF-8) and returns its byte length in `len`.
char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t* len);
// Appends the UTF-8 encoding of `cp`.
void append_utf8(std::string& out, char32_t cp);

// Rust's char::is_whitespace: the White_Space property.
bool is_white_space(char32_t cp);
// Rust regex's \w: Alphabetic, Mark, Decimal_Number, Connector_Punctuation, Join_Control.
bool is_word_char(char32_t cp);

// Grapheme_Cluster_Break values; the numbering matches scripts/make_unicode_tables.py.
enum class GraphemeBreak : std::uint8_t {
  kOther,
  kCR,
  kLF,
  kControl,
  kExtend,
  kZWJ,
  kRegionalIndicator,
  kPrepend,
  kSpacingMark,
  kL,
  kV,
  kT,
  kLV,
  kLVT,
};
GraphemeBreak grapheme_break(char32_t cp);
bool is_extended_pictographic(char32_t cp);

// Byte length of the extended grapheme cluster starting at `s[i]` (valid UTF-8, i < s.size()).
// Implements the rules GB3-GB13 of UAX #29 (Unicode 15.1), with Indic_Conjunct_Break=Extend
// taken as Grapheme_Cluster_Break Extend or ZWJ.
std::size_t grapheme_length(std::string_view s, std::size_t i);

namespace tables {
struct PropertyRange {
  char32_t first;
  char32_t last;
  std::uint8_t value;
};
extern const PropertyRange kGraphemeBreak[];
extern const std::size_t kGraphemeBreakSize;
extern const PropertyRange kExtendedPictographic[];
extern const std::size_t kExtendedPictographicSize;
extern const PropertyRange kConjunctConsonant[];
extern const std::size_t kConjunctConsonantSize;
extern const PropertyRange kWord[];
extern const std::size_t kWordSize;
}  // namespace tables

}  // namespace skillmatch::text
