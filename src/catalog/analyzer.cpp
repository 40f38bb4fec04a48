#include "catalog/analyzer.h"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "text/unicode.h"

namespace skillmatch::catalog {
namespace {

// Decodes one UTF-8 code point at s[i]; returns 0xFFFD and advances by one for invalid bytes.
char32_t decode(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

// Letters and digits of the scripts in the taxonomies; punctuation, symbols and spaces split.
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c == 0xFFFD || c == 0xD7 || c == 0xF7) return false;
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, symbols, arrows, math
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  if (c >= 0xFE30 && c <= 0xFE4F) return false;
  if (c >= 0xFF00 && c <= 0xFF0F) return false;
  return true;
}

char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xC0 && c <= 0xDE) && c != 0xD7) return c + 32;    // Latin-1 capitals
  if (c == 0x1E9E) return 0xDF;                                // capital sharp s
  if (c >= 0x100 && c <= 0x17F && (c % 2 == 0)) return c + 1;  // Latin Extended-A pairs (most)
  if (c >= 0x391 && c <= 0x3A9) return c + 32;                 // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                 // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

// Function words of German and English that carry no topic (the list every taxonomy was
// analysed with before taxonomies were analysed in their language; kept, so that German results
// stay what they were).
const std::unordered_set<std::string>& german_stop_words() {
  static const std::unordered_set<std::string> words = {
      "aber",   "alle",   "als",    "am",    "an",     "auch", "auf",   "aus",   "bei",   "bis",
      "das",    "dass",   "dem",    "den",   "der",    "des",  "die",   "dies",  "diese", "diesem",
      "diesen", "dieser", "dieses", "durch", "ein",    "eine", "einem", "einen", "einer", "eines",
      "es",     "für",    "hat",    "ihr",   "ihre",   "im",   "in",    "ist",   "mit",   "nach",
      "nicht",  "noch",   "oder",   "sich",  "sie",    "sind", "so",    "um",    "und",   "uns",
      "unter",  "vom",    "von",    "vor",   "wie",    "wir",  "wird",  "zu",    "zum",   "zur",
      "über",   "sowie",  "werden", "kann",  "können", "sein", "a",     "an",    "and",   "are",
      "as",     "at",     "be",     "by",    "for",    "from", "in",    "into",  "is",    "it",
      "of",     "on",     "or",     "such",  "that",   "the",  "their", "this",  "to",    "with"};
  return words;
}

// The classic short English stop list of search engines (33 function words).
const std::unordered_set<std::string>& english_stop_words() {
  static const std::unordered_set<std::string> words = {
      "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
      "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
      "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
  return words;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Length in code points (CISTEM's length conditions count characters).
std::size_t length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string cistem(std::string_view lower_word) {
  std::string w(lower_word);
  replace_all(w, "\xC3\xBC", "u");   // ü
  replace_all(w, "\xC3\xB6", "o");   // ö
  replace_all(w, "\xC3\xA4", "a");   // ä
  replace_all(w, "\xC3\x9F", "ss");  // ß
  // Strip the participle prefix "ge" when at least four characters follow.
  if (w.rfind("ge", 0) == 0 && length(w) >= 6) w.erase(0, 2);
  // Protect letter groups and doubled letters from the suffix rules with placeholders.
  replace_all(w, "sch", "$");
  replace_all(w, "ei", "%");
  replace_all(w, "ie", "&");
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == w[i - 1] && static_cast<unsigned char>(w[i]) < 0x80) w[i] = '*';
  }
  while (length(w) > 3) {
    if (length(w) > 5 && (ends_with(w, "em") || ends_with(w, "er") || ends_with(w, "nd"))) {
      w.resize(w.size() - 2);
      continue;
    }
    const char last = w.back();
    if (last == 't' || last == 'e' || last == 's' || last == 'n') {
      w.pop_back();
      continue;
    }
    break;
  }
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == '*') w[i] = w[i - 1];
  }
  replace_all(w, "$", "sch");
  replace_all(w, "%", "ei");
  replace_all(w, "&", "ie");
  return w;
}

Analysis analysis_for(std::string_view language) noexcept {
  const std::size_t end = language.find_first_of("-_");
  const std::string_view code = language.substr(0, end);
  auto is = [&](const char* c) {
    return code.size() == 2 && (code[0] | 0x20) == c[0] && (code[1] | 0x20) == c[1];
  };
  if (is("de")) return Analysis::kGerman;
  if (is("en")) return Analysis::kEnglish;
  return Analysis::kPlain;
}

std::vector<std::string> analyze(std::string_view text, Analysis analysis) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    switch (analysis) {
      case Analysis::kGerman:
        if (!german_stop_words().count(word)) out.push_back(cistem(word));
        break;
      case Analysis::kEnglish:
        if (!english_stop_words().count(word)) out.push_back(porter2(word));
        break;
      case Analysis::kPlain:
        out.push_back(word);
        break;
    }
    word.clear();
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = decode(text, i);
    if (is_word_char(c)) {
      text::append_utf8(word, to_lower(c));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::vector<std::string> analyze(std::string_view text, std::string_view language) {
  return analyze(text, analysis_for(language));
}

std::string analyzed_text(std::string_view text, Analysis analysis) {
  std::string out;
  for (const auto& t : analyze(text, analysis)) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

std::string analyzed_text(std::string_view text, std::string_view language) {
  return analyzed_text(text, analysis_for(language));
}

}  // namespace skillmatch::catalog
