#include "skillmatch/search/support.h"

#include <algorithm>

namespace skillmatch {
namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Ends a sentence: . ! ? ; and line breaks (a learning outcome per line), and the bullet "•".
bool ends_sentence(std::string_view t, std::size_t i, std::size_t* width) {
  const unsigned char c = static_cast<unsigned char>(t[i]);
  *width = 1;
  if (c == '\n' || c == ';' || c == '!' || c == '?') return true;
  if (c == '.') {
    // Not inside a number ("3.5") or an abbreviation followed by a lower-case word.
    return i + 1 >= t.size() || is_space(static_cast<unsigned char>(t[i + 1]));
  }
  if (t.compare(i, 3, "\xE2\x80\xA2") == 0) {  // U+2022 bullet
    *width = 3;
    return true;
  }
  return false;
}

// [start, end) without surrounding white space and ASCII punctuation.
TextSpan trimmed(std::string_view t, std::size_t start, std::size_t end) {
  auto junk = [](unsigned char c) {
    return is_space(c) || c == '-' || c == '*' || c == ',' || c == ':' || c == '.' || c == ';' ||
           c == '(' || c == ')' || c == '"';
  };
  while (start < end && junk(static_cast<unsigned char>(t[start]))) ++start;
  while (end > start && junk(static_cast<unsigned char>(t[end - 1]))) --end;
  return {start, end};
}

}  // namespace

std::vector<TextSpan> support_candidates(std::string_view text, std::size_t window,
                                         std::size_t limit) {
  std::vector<TextSpan> out;
  if (window == 0) window = 1;
  auto add = [&](TextSpan s) {
    if (s.end > s.start && out.size() < limit &&
        std::none_of(out.begin(), out.end(),
                     [&](const TextSpan& o) { return o.start == s.start && o.end == s.end; })) {
      out.push_back(s);
    }
  };
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    std::size_t width = 0;
    if (i < text.size() && !ends_sentence(text, i, &width)) continue;
    // The sentence keeps its end mark ("...abschließen."), not the line break.
    const std::size_t end =
        std::min(text.size(), i + (i < text.size() && text[i] != '\n' ? width : 0));
    const TextSpan sentence = trimmed(text, begin, end);
    // Word boundaries of the sentence (ASCII white space; UTF-8 multi-byte characters stay whole).
    std::vector<TextSpan> words;
    for (std::size_t k = sentence.start; k < sentence.end;) {
      while (k < sentence.end && is_space(static_cast<unsigned char>(text[k]))) ++k;
      const std::size_t w = k;
      while (k < sentence.end && !is_space(static_cast<unsigned char>(text[k]))) ++k;
      if (k > w) words.push_back({w, k});
    }
    if (!words.empty()) add(sentence);
    if (words.size() > window) {
      for (std::size_t w = 0; w < words.size(); w += std::max<std::size_t>(1, window / 2)) {
        const std::size_t last = std::min(words.size(), w + window) - 1;
        add(trimmed(text, words[w].start, words[last].end));
        if (last + 1 == words.size()) break;
      }
    }
    if (i == text.size()) break;
    begin = i + width;
    i = begin - 1;
  }
  return out;
}

}  // namespace skillmatch
