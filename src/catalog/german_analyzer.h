// Text analysis for BM25 over German (and English) skill texts.
//
// Why: ESCO's German labels are verb phrases ("Buchhaltungsunterlagen führen"), course texts use
// other inflections ("Führung der Buchhaltung"). Exact-token matching misses most of these, so
// every word is lower-cased, split on anything that is not a letter or digit, stop words are
// dropped, and the rest is stemmed with CISTEM (Weissweiler & Fraser 2017), a German stemmer
// that folds umlauts and strips inflection suffixes. It is written here from the published
// algorithm (case-insensitive variant). Compounds are not split: "Buchhaltungskurs" does not
// match "Buchhaltung" (the dense retriever covers such cases).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skillmatch::catalog {

// CISTEM stem of one lower-cased word (UTF-8; umlauts and ß are folded first).
std::string cistem(std::string_view lower_word);

// Lower-cased, stop-word-free, stemmed terms of `text` in order. Invalid UTF-8 bytes separate
// words.
std::vector<std::string> analyze(std::string_view text);

// analyze() joined by single spaces: what the full-text index stores.
std::string analyzed_text(std::string_view text);

}  // namespace skillmatch::catalog
