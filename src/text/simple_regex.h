// The regular expressions of tokenizer.json `Replace` normalizers, run as Hugging Face's tokenizers
// runs them (Oniguruma, Ruby syntax, UTF-8): a backtracking matcher for a subset of the syntax
// that covers what XLM-R style files use (" {2,}") and more: literal characters and escapes
// (\t \n \r \f \v \a \e \xHH \x{H..} \uHHHH, escaped punctuation), `.`, \s \S, bracket classes
// with ranges and negation, groups `( )` and `(?: )`, alternation `|`, and the greedy or lazy
// quantifiers * + ? {n} {n,} {,m} {n,m}. Anything else (anchors, \d \w \b \p{..}, look-around,
// back-references, possessive quantifiers, options) is refused, never guessed.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skillmatch::text {

class SimpleRegex {
 public:
  // Throws kUnsupported ("`what`: regex "...": <reason>") for syntax outside the subset.
  SimpleRegex(std::string_view pattern, const std::string& what);
  ~SimpleRegex();
  SimpleRegex(SimpleRegex&&) noexcept;
  SimpleRegex& operator=(SimpleRegex&&) noexcept;

  // All matches in valid UTF-8 `text` as Oniguruma's find_iter yields them: leftmost-first,
  // non-overlapping, an empty match right at the end of the previous match skipped.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

  struct Node;

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace skillmatch::text
