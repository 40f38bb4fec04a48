// What the tokenizer targets ask of every tokenizer that loads, whatever its file held.
#pragma once

#include <cstddef>
#include <string_view>

#include "skillmatch/text/tokenizer.h"

namespace skillmatch::fuzz {

// Runs `a` (and the pair a, b) through every encode function, decode and the id lookups of `t`
// and checks what the header promises: ids inside the vocabulary, one piece per id, results no
// longer than `max_length`. A skillmatch::Error other than kInternal is allowed (invalid UTF-8,
// a max_length below the template's special tokens).
void check_tokenizer(const Tokenizer& t, std::string_view a, std::string_view b,
                     std::size_t max_length);

// check_tokenizer on a fixed set of texts (empty, white space, German, CJK, emoji sequences,
// compatibility characters, literal special tokens, a long word) at several lengths.
void check_tokenizer_on_samples(const Tokenizer& t);

}  // namespace skillmatch::fuzz
