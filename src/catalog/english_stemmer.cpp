// The Porter2 ("Snowball English") stemmer, written from the algorithm's published description
// (snowballstem.org, "The English (Porter2) stemming algorithm", the classic version: R1 with the
// gener-/commun-/arsen- prefixes, no later additions). The rules work on characters: the word is
// decoded to code points first, so that "preceded by more than one letter" and the like count
// letters, not bytes.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "catalog/analyzer.h"
#include "skillmatch/core/utf8.h"
#include "text/unicode.h"

namespace skillmatch::catalog {
namespace {

using Word = std::u32string;
using Suffix = std::u32string_view;

// The vowels a e i o u y; a 'y' marked as consonant is 'Y', which is not one.
bool is_vowel(char32_t c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

bool ends_with(const Word& w, Suffix s) {
  return w.size() >= s.size() && Suffix(w).substr(w.size() - s.size()) == s;
}

bool has_vowel(const Word& w, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    if (is_vowel(w[i])) return true;
  }
  return false;
}

// The start of the region after the first non-vowel that follows a vowel, searching from `from`;
// the end of the word when there is none. R1 is this from 0, R2 this from R1.
std::size_t region_after(const Word& w, std::size_t from) {
  std::size_t i = from;
  while (i < w.size() && !is_vowel(w[i])) ++i;
  while (i < w.size() && is_vowel(w[i])) ++i;
  return i < w.size() ? i + 1 : w.size();
}

// Whether the first `n` letters of `w` end in a short syllable: a vowel followed by a non-vowel
// other than w, x or Y and preceded by a non-vowel, or a vowel at the beginning of the word
// followed by a non-vowel.
bool ends_in_short_syllable(const Word& w, std::size_t n) {
  if (n >= 3 && !is_vowel(w[n - 3]) && is_vowel(w[n - 2]) && !is_vowel(w[n - 1]) &&
      w[n - 1] != 'w' && w[n - 1] != 'x' && w[n - 1] != 'Y') {
    return true;
  }
  return n == 2 && is_vowel(w[0]) && !is_vowel(w[1]);
}

// A word is short when it ends in a short syllable and R1 is empty.
bool is_short_word(const Word& w, std::size_t r1) {
  return r1 >= w.size() && ends_in_short_syllable(w, w.size());
}

bool is_double(const Word& w) {
  if (w.size() < 2 || w[w.size() - 1] != w[w.size() - 2]) return false;
  const char32_t c = w.back();
  return c == 'b' || c == 'd' || c == 'f' || c == 'g' || c == 'm' || c == 'n' || c == 'p' ||
         c == 'r' || c == 't';
}

bool is_li_ending(char32_t c) {
  return c == 'c' || c == 'd' || c == 'e' || c == 'g' || c == 'h' || c == 'k' || c == 'm' ||
         c == 'n' || c == 'r' || c == 't';
}

// A suffix of a step's list and what replaces it.
struct Rule {
  Suffix suffix;
  Suffix replacement;
};

// The longest suffix of `rules` that `w` ends with (each step looks only at that one: when its
// condition fails, shorter suffixes are not tried), or nullptr.
template <std::size_t N>
const Rule* longest(const Word& w, const std::array<Rule, N>& rules) {
  const Rule* best = nullptr;
  for (const Rule& r : rules) {
    if (ends_with(w, r.suffix) && (!best || r.suffix.size() > best->suffix.size())) best = &r;
  }
  return best;
}

void replace_suffix(Word& w, const Rule& r) {
  w.resize(w.size() - r.suffix.size());
  w += r.replacement;
}

// Step 0: the longest of ', 's, 's' is removed.
void step0(Word& w) {
  for (const Suffix s : {Suffix(U"'s'"), Suffix(U"'s"), Suffix(U"'")}) {
    if (ends_with(w, s)) {
      w.resize(w.size() - s.size());
      return;
    }
  }
}

// Step 1a: plural and third-person endings.
void step1a(Word& w) {
  if (ends_with(w, U"sses")) {
    w.resize(w.size() - 2);  // sses -> ss
  } else if (ends_with(w, U"ied") || ends_with(w, U"ies")) {
    w.resize(w.size() - 3);  // by i after more than one letter (cries -> cri), else ie (ties)
    w += w.size() > 1 ? U"i" : U"ie";
  } else if (ends_with(w, U"us") || ends_with(w, U"ss")) {
    // kept
  } else if (ends_with(w, U"s")) {
    // Deleted when the part before it has a vowel not just before the s (gaps -> gap, gas).
    if (w.size() >= 2 && has_vowel(w, 0, w.size() - 2)) w.pop_back();
  }
}

// Step 1b: -ed, -ing and their -ly forms.
void step1b(Word& w, std::size_t r1) {
  static const std::array<Rule, 6> kRules = {{{U"eed", U"ee"},
                                              {U"eedly", U"ee"},
                                              {U"ed", U""},
                                              {U"edly", U""},
                                              {U"ing", U""},
                                              {U"ingly", U""}}};
  const Rule* r = longest(w, kRules);
  if (!r) return;
  const std::size_t start = w.size() - r->suffix.size();
  if (!r->replacement.empty()) {  // eed, eedly: by ee when in R1
    if (start >= r1) replace_suffix(w, *r);
    return;
  }
  // ed, edly, ing, ingly: deleted when the part before has a vowel; then the stem is repaired.
  if (!has_vowel(w, 0, start)) return;
  w.resize(start);
  if (ends_with(w, U"at") || ends_with(w, U"bl") || ends_with(w, U"iz")) {
    w += U"e";  // luxuriat -> luxuriate
  } else if (is_double(w)) {
    w.pop_back();  // hopp -> hop
  } else if (is_short_word(w, r1)) {
    w += U"e";  // hop -> hope
  }
}

// Step 1c: a final y or Y after a non-vowel that is not the first letter becomes i (cry -> cri,
// by, say).
void step1c(Word& w) {
  const std::size_t n = w.size();
  if (n > 2 && (w[n - 1] == 'y' || w[n - 1] == 'Y') && !is_vowel(w[n - 2])) w[n - 1] = 'i';
}

// Step 2: derivational suffixes in R1.
void step2(Word& w, std::size_t r1) {
  static const std::array<Rule, 24> kRules = {
      {{U"tional", U"tion"}, {U"enci", U"ence"},   {U"anci", U"ance"},   {U"abli", U"able"},
       {U"entli", U"ent"},   {U"izer", U"ize"},    {U"ization", U"ize"}, {U"ational", U"ate"},
       {U"ation", U"ate"},   {U"ator", U"ate"},    {U"alism", U"al"},    {U"aliti", U"al"},
       {U"alli", U"al"},     {U"fulness", U"ful"}, {U"ousli", U"ous"},   {U"ousness", U"ous"},
       {U"iveness", U"ive"}, {U"iviti", U"ive"},   {U"biliti", U"ble"},  {U"bli", U"ble"},
       {U"ogi", U"og"},      {U"fulli", U"ful"},   {U"lessli", U"less"}, {U"li", U""}}};
  const Rule* r = longest(w, kRules);
  if (!r) return;
  const std::size_t start = w.size() - r->suffix.size();
  if (start < r1) return;
  if (r->suffix == U"ogi" && (start == 0 || w[start - 1] != 'l')) return;  // ogi after l
  if (r->suffix == U"li" && (start == 0 || !is_li_ending(w[start - 1]))) return;
  replace_suffix(w, *r);
}

// Step 3: more derivational suffixes in R1 (-ative only in R2).
void step3(Word& w, std::size_t r1, std::size_t r2) {
  static const std::array<Rule, 9> kRules = {{{U"tional", U"tion"},
                                              {U"ational", U"ate"},
                                              {U"alize", U"al"},
                                              {U"icate", U"ic"},
                                              {U"iciti", U"ic"},
                                              {U"ical", U"ic"},
                                              {U"ful", U""},
                                              {U"ness", U""},
                                              {U"ative", U""}}};
  const Rule* r = longest(w, kRules);
  if (!r) return;
  const std::size_t start = w.size() - r->suffix.size();
  if (start < r1) return;
  if (r->suffix == U"ative" && start < r2) return;
  replace_suffix(w, *r);
}

// Step 4: suffixes deleted in R2 (-ion only after s or t).
void step4(Word& w, std::size_t r2) {
  static const std::array<Rule, 18> kRules = {{{U"al", U""},
                                               {U"ance", U""},
                                               {U"ence", U""},
                                               {U"er", U""},
                                               {U"ic", U""},
                                               {U"able", U""},
                                               {U"ible", U""},
                                               {U"ant", U""},
                                               {U"ement", U""},
                                               {U"ment", U""},
                                               {U"ent", U""},
                                               {U"ism", U""},
                                               {U"ate", U""},
                                               {U"iti", U""},
                                               {U"ous", U""},
                                               {U"ive", U""},
                                               {U"ize", U""},
                                               {U"ion", U""}}};
  const Rule* r = longest(w, kRules);
  if (!r) return;
  const std::size_t start = w.size() - r->suffix.size();
  if (start < r2) return;
  if (r->suffix == U"ion" && (start == 0 || (w[start - 1] != 's' && w[start - 1] != 't'))) return;
  replace_suffix(w, *r);
}

// Step 5: a final e in R2, or in R1 after no short syllable; a final l in R2 after l.
void step5(Word& w, std::size_t r1, std::size_t r2) {
  if (w.empty()) return;
  const std::size_t start = w.size() - 1;
  if (w.back() == 'e') {
    if (start >= r2 || (start >= r1 && !ends_in_short_syllable(w, start))) w.pop_back();
  } else if (w.back() == 'l') {
    if (start >= r2 && start > 0 && w[start - 1] == 'l') w.pop_back();
  }
}

// Words stemmed by the list, not by the rules; the second column is their stem.
constexpr std::array<std::pair<std::u32string_view, std::u32string_view>, 18> kExceptions = {{
    {U"skis", U"ski"},
    {U"skies", U"sky"},
    {U"dying", U"die"},
    {U"lying", U"lie"},
    {U"tying", U"tie"},
    {U"idly", U"idl"},
    {U"gently", U"gentl"},
    {U"ugly", U"ugli"},
    {U"early", U"earli"},
    {U"only", U"onli"},
    {U"singly", U"singl"},
    {U"sky", U"sky"},
    {U"news", U"news"},
    {U"howe", U"howe"},
    {U"atlas", U"atlas"},
    {U"cosmos", U"cosmos"},
    {U"bias", U"bias"},
    {U"andes", U"andes"},
}};

// Words left as they are once step 1a has run.
constexpr std::array<std::u32string_view, 8> kInvariantAfterStep1a = {
    U"inning", U"outing", U"canning", U"herring", U"earring", U"proceed", U"exceed", U"succeed"};

}  // namespace

std::string porter2(std::string_view lower_word) {
  if (!is_valid_utf8(lower_word)) return std::string(lower_word);  // no word the rules can read
  Word w;
  for (std::size_t i = 0, len = 0; i < lower_word.size(); i += len) {
    w += text::decode_utf8(lower_word, i, &len);
  }
  auto encode = [](Suffix word) {
    std::string out;
    for (const char32_t c : word) text::append_utf8(out, c);
    return out;
  };
  for (const auto& [word, stem] : kExceptions) {
    if (w == word) return encode(stem);
  }
  if (w.size() < 3) return std::string(lower_word);  // two letters or fewer: left alone
  // Prelude: an initial apostrophe goes; an initial y and a y after a vowel are consonants (Y).
  if (w[0] == '\'') w.erase(0, 1);
  if (w[0] == 'y') w[0] = 'Y';
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == 'y' && is_vowel(w[i - 1])) w[i] = 'Y';
  }
  // The regions, on the word as it is now; suffixes are only ever cut off its end.
  std::size_t r1 = region_after(w, 0);
  for (const Suffix prefix : {Suffix(U"gener"), Suffix(U"commun"), Suffix(U"arsen")}) {
    if (Suffix(w).substr(0, prefix.size()) == prefix) r1 = prefix.size();
  }
  const std::size_t r2 = region_after(w, r1);

  step0(w);
  step1a(w);
  if (std::find(kInvariantAfterStep1a.begin(), kInvariantAfterStep1a.end(), Suffix(w)) ==
      kInvariantAfterStep1a.end()) {
    step1b(w, r1);
    step1c(w);
    step2(w, r1);
    step3(w, r1, r2);
    step4(w, r2);
    step5(w, r1, r2);
  }
  for (char32_t& c : w) {
    if (c == 'Y') c = 'y';
  }
  return encode(w);
}

}  // namespace skillmatch::catalog
