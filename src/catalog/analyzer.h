// Text analysis for BM25, in the language of a taxonomy.
//
// Why: skill labels and course texts use different inflections of the same words (German
// "Buchhaltungsunterlagen führen" / "Führung der Buchhaltung", English "manage budget" /
// "managing budgets"). Exact-token matching misses most of these, so every word is lower-cased,
// split on anything that is not a letter or digit, stop words are dropped and the rest is stemmed
// by the stemmer of the text's language:
// - German ("de"): CISTEM (Weissweiler & Fraser 2017), which folds umlauts and strips
//   inflection suffixes (case-insensitive variant). Its stop words are German and English
//   function words (what every taxonomy got before taxonomies were analysed in their language).
//   Compounds are not split: "Buchhaltungskurs" does not match "Buchhaltung" (the dense
//   retriever covers such cases).
// - English ("en"): the Porter2 ("Snowball English") stemmer, the classic version described on
//   snowballstem.org (R1/R2 with the gener-/commun-/arsen- prefixes, steps 0 to 5, the
//   exceptional forms), and a short list of English stop words.
// - Any other language: lower-cased and split only (no stop words, no stemming).
// Both stemmers are written here from their published descriptions.
//
// A taxonomy's skills are indexed with the analysis of its language and a query is analysed the
// same way for each language it is matched against (Workspace::bm25).
//
// Thread-safety: pure functions. Errors: none (invalid UTF-8 bytes separate words).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skillmatch::catalog {

enum class Analysis { kGerman, kEnglish, kPlain };

// The analysis of a taxonomy language: the ISO 639-1 code, case-insensitive, with any region or
// script after '-' or '_' ignored ("de", "de-AT", "EN_gb"). "de" is German, "en" English, every
// other code (and "") plain.
Analysis analysis_for(std::string_view language) noexcept;

// What the full-text rows of a workspace were analysed with: 1 = German for every taxonomy,
// 2 = each taxonomy in its language. Bump it when any analysis changes its output, and say in
// Workspace::open which rows the step re-analyses.
inline constexpr int kAnalyzerVersion = 2;

// CISTEM stem of one lower-cased German word (UTF-8; umlauts and ß are folded first).
std::string cistem(std::string_view lower_word);

// Porter2 stem of one lower-cased English word (UTF-8; the rules count characters, letters other
// than a-z are consonants to them; invalid UTF-8 comes back unchanged).
std::string porter2(std::string_view lower_word);

// The lower-cased, stop-word-free, stemmed terms of `text` in order.
std::vector<std::string> analyze(std::string_view text, Analysis analysis);
// The same for a taxonomy language (analysis_for); without one, German (the analysis of the
// shipped taxonomies, and what every text got before languages were told apart).
std::vector<std::string> analyze(std::string_view text, std::string_view language = "de");

// analyze() joined by single spaces: what the full-text index stores.
std::string analyzed_text(std::string_view text, Analysis analysis);
std::string analyzed_text(std::string_view text, std::string_view language = "de");

}  // namespace skillmatch::catalog
