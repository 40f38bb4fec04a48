// UTF-8 validation: text enters skillmatch at a boundary (a CLI argument, a file, a request) and
// is validated there once; the layers below take valid UTF-8 for granted where they say so.
// Thread-safe pure functions.
#pragma once

#include <string_view>

namespace skillmatch {

// Throws kInvalidArgument ("invalid UTF-8 at byte N") unless `text` is valid UTF-8
// (no overlongs, no surrogates, nothing above U+10FFFF).
void validate_utf8(std::string_view text);

// True when `text` is valid UTF-8 (the same rules, without throwing).
bool is_valid_utf8(std::string_view text) noexcept;

// The first `max_bytes` bytes of `text` or fewer, so as not to end inside a character of valid
// UTF-8 (for quoting part of a value in a message).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept;

}  // namespace skillmatch
