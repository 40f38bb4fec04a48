// The supporting span of a suggestion: the part of a course text that best supports a skill, so
// that an editor sees why it was suggested. Candidates are the text's sentences (split at . ! ?
// ; and line breaks) and, inside a long sentence, windows of words; the engine scores them by
// the embedder (the window whose embedding is nearest to the skill's vector) or, without one, by
// the skill label's words they contain. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace skillmatch {

struct TextSpan {
  std::size_t start = 0, end = 0;  // byte offsets into the text, [start, end)
};

// Sentences, and windows of `window` words (every window / 2 words) inside sentences longer than
// that, trimmed of surrounding white space and punctuation; at most `limit` spans (the first
// ones). Spans never split a UTF-8 character. Empty for a text without words.
std::vector<TextSpan> support_candidates(std::string_view text, std::size_t window = 12,
                                         std::size_t limit = 96);

}  // namespace skillmatch
