// The regular expressions of tokenizer.json `Replace` normalizers, run as Hugging Face's tokenizers
// runs them (Oniguruma, Ruby syntax, UTF-8): a backtracking matcher for a subset of the syntax
// that covers what XLM-R style files use (" {2,}") and more: literal characters and escapes
// (\t \n \r \f \v \a \e \xHH \x{H..} \uHHHH, escaped punctuation), `.`, \s \S, bracket classes
// with ranges and negation, groups `( )` and `(?: )`, alternation `|`, and the greedy or lazy
// quantifiers * + ? {n} {n,} {,m} {n,m}. Anything else (anchors, \d \w \b \p{..}, look-around,
// back-references, possessive quantifiers, options) is refused, never guessed.
//
// A backtracking matcher can take exponential time ("(a|a)*b" on a run of a's) and, matching a
// quantified group by recursion, nest as deep as the group repeats. Both are bounded: a search
// that takes more than kMaxRegexSteps (plus 64 per byte of text) steps, or nests deeper than
// kMaxRegexDepth, throws kUnsupported naming the regex and its file, as Oniguruma gives up past
// its retry limit; never a hang or a stack overflow.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skillmatch::text {

inline constexpr std::size_t kMaxRegexSteps = 1'000'000;
inline constexpr std::size_t kMaxRegexDepth = 2'000;

class SimpleRegex {
 public:
  // Throws kUnsupported ("`what`: regex "...": <reason>") for syntax outside the subset.
  SimpleRegex(std::string_view pattern, const std::string& what);
  ~SimpleRegex();
  SimpleRegex(SimpleRegex&&) noexcept;
  SimpleRegex& operator=(SimpleRegex&&) noexcept;

  // All matches in valid UTF-8 `text` as Oniguruma's find_iter yields them: leftmost-first,
  // non-overlapping, an empty match right at the end of the previous match skipped. Throws
  // kUnsupported when the search exceeds the step or depth bound (see above).
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

  struct Node;

 private:
  std::unique_ptr<Node> root_;
  std::string pattern_;
  std::string what_;
};

}  // namespace skillmatch::text
