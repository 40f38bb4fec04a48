// BM25's text analysis: CISTEM for German, Porter2 for English, plain words for other languages.
#include "catalog/analyzer.h"

#include <gtest/gtest.h>

#include <utility>

namespace skillmatch::catalog {
namespace {

TEST(GermanAnalyzer, CistemFoldsInflections) {
  // Inflected forms of one word share a stem.
  EXPECT_EQ(cistem("buchhaltung"), cistem("buchhaltungen"));
  EXPECT_EQ(cistem("verwenden"), cistem("verwendet"));
  EXPECT_EQ(cistem("kurse"), cistem("kurs"));
  EXPECT_EQ(cistem("führen"), cistem("fuhren"));  // umlauts folded
  EXPECT_EQ(cistem("straße"), cistem("strasse"));
  EXPECT_EQ(cistem("gemacht"), cistem("macht"));  // participle prefix "ge" with 4+ letters after
  EXPECT_EQ(cistem("geld"), "geld");              // too short to lose "ge"
  EXPECT_EQ(cistem("schule"), "schul");           // "sch" survives the suffix rules
  EXPECT_EQ(cistem("wasser"), "wass");            // doubled letters are protected, "er" stripped
}

TEST(GermanAnalyzer, SplitsLowercasesAndDropsStopWords) {
  const auto terms = analyze("Grundlagen der BUCHHALTUNG für Einsteiger*innen, inkl. Übungen!");
  ASSERT_FALSE(terms.empty());
  EXPECT_EQ(terms[0], cistem("grundlagen"));
  EXPECT_EQ(terms[1], cistem("buchhaltung"));
  for (const auto& t : terms) {
    EXPECT_NE(t, "der");
    EXPECT_NE(t, "fur");
    EXPECT_EQ(t.find_first_of("!*,. "), std::string::npos) << t;
  }
  EXPECT_EQ(analyze("ÜBUNG"), analyze("übung"));
  EXPECT_TRUE(analyze("").empty());
  EXPECT_TRUE(analyze("und oder der").empty());
  EXPECT_FALSE(analyze("C++ und SQL").empty());
  EXPECT_EQ(analyzed_text("Excel-Tabellen  erstellen"),
            cistem("excel") + " " + cistem("tabellen") + " " + cistem("erstellen"));
  // Invalid UTF-8 separates words instead of failing.
  EXPECT_EQ(analyze("abc\xFF"
                    "def")
                .size(),
            2u);
}

// Each pair was worked through the published Porter2 rules by hand (R1/R2, steps 0 to 5, the
// exceptional forms); the comments name the rule that decides.
TEST(EnglishAnalyzer, Porter2StemsKnownWords) {
  const std::pair<const char*, const char*> pairs[] = {
      {"running", "run"},             // 1b: -ing goes, the double nn is undoubled
      {"hopping", "hop"},             // the same
      {"programming", "program"},     // the same
      {"fitted", "fit"},              // 1b: -ed, tt undoubled
      {"hoping", "hope"},             // 1b: "hop" is a short word and gets its e back
      {"filing", "file"},             // the same
      {"skating", "skate"},           // 1b: a stem ending in "at" gets an e; 5 keeps it
      {"luxuriating", "luxuri"},      // 1b adds e to "luxuriat", 4 removes -ate in R2
      {"bled", "bled"},               // 1b: no vowel before -ed
      {"succeeding", "succeed"},      // 1b: -ing; "succeed" is then left alone
      {"agreed", "agre"},             // 1b: -eed in R1 becomes ee; 5: e in R1, no short syllable
      {"feed", "feed"},               // 1b: -eed not in R1
      {"managing", "manag"},          // 1b: "manag" has a non-empty R1, so no e
      {"manage", "manag"},            // 5: the final e is in R2
      {"management", "manag"},        // 4: -ement in R2
      {"generously", "generous"},     // R1 after "gener"; 1c: y -> i; 2: -ousli -> ous
      {"generate", "generat"},        // R1 after "gener"; 5: e in R2
      {"communication", "communic"},  // R1 after "commun"; 2: -ation -> ate; 3: -icate -> ic
      {"national", "nation"},         // 2: -ational starts before R1, nothing; 4: -al in R2
      {"relational", "relat"},        // 2: -ational -> ate; 5: e in R2
      {"traditional", "tradit"},      // 2: -tional -> tion; 4: -ion after t in R2
      {"hopeful", "hope"},            // 3: -ful; 5: e after the short syllable "hop" stays
      {"knowledge", "knowledg"},      // 5: e in R2
      {"cargoes", "cargo"},           // 1a: s; 5: e in R1 after no short syllable
      {"budgets", "budget"},          // 1a: s after a vowel further back
      {"gaps", "gap"},                // the same
      {"kiwis", "kiwi"},              // the same
      {"gas", "gas"},                 // 1a: the only vowel is just before the s
      {"caresses", "caress"},         // 1a: -sses -> ss
      {"ponies", "poni"},             // 1a: -ies after more than one letter -> i
      {"ties", "tie"},                // 1a: -ies after one letter -> ie
      {"cries", "cri"},               // the same, two letters
      {"happy", "happi"},             // 1c: y after a non-vowel -> i
      {"happily", "happili"},         // 2: -li after i (not a valid li-ending) stays
      {"cry", "cri"},                 // 1c
      {"say", "say"},                 // y after a vowel is a consonant (Y)
      {"by", "by"},                   // two letters: left alone
      {"enjoying", "enjoy"},          // Y after o; 1b: -ing
      {"youth", "youth"},             // an initial y is a consonant
      {"skies", "sky"},               // exceptional forms
      {"dying", "die"},               // the same
      {"news", "news"},               // the same, left as it is
  };
  for (const auto& [word, stem] : pairs) EXPECT_EQ(porter2(word), stem) << word;
  EXPECT_EQ(porter2(""), "");
  // Letters outside a-z are consonants to the rules and come back unchanged.
  EXPECT_EQ(porter2("cafés"), "café");
  EXPECT_EQ(porter2("naïvely"), "naïv");
  EXPECT_EQ(porter2("hop\xFFing"), "hop\xFFing");  // not UTF-8: left as it is
}

TEST(EnglishAnalyzer, StopWordsAndStems) {
  EXPECT_EQ(analyze("Managing the budgets of a project", "en"),
            (std::vector<std::string>{"manag", "budget", "project"}));
  EXPECT_EQ(analyzed_text("manage BUDGET", "en"), "manag budget");
  EXPECT_EQ(analyze("managing budgets", Analysis::kEnglish),
            analyze("manage budget", Analysis::kEnglish));
  // German analysis keeps these apart ("managing" is not a German inflection).
  EXPECT_NE(analyze("managing", "de"), analyze("manage", "de"));
  EXPECT_TRUE(analyze("the and of with", "en").empty());
  EXPECT_EQ(analyze("und der", "en"), (std::vector<std::string>{"und", "der"}));
}

TEST(Analyzer, LanguageChoosesTheAnalysis) {
  EXPECT_EQ(analysis_for("de"), Analysis::kGerman);
  EXPECT_EQ(analysis_for("DE-at"), Analysis::kGerman);
  EXPECT_EQ(analysis_for("en"), Analysis::kEnglish);
  EXPECT_EQ(analysis_for("en_GB"), Analysis::kEnglish);
  EXPECT_EQ(analysis_for("fr"), Analysis::kPlain);
  EXPECT_EQ(analysis_for("deu"), Analysis::kPlain);
  EXPECT_EQ(analysis_for(""), Analysis::kPlain);
  // Without a language: German, as before.
  const std::string text = "Buchhaltungsunterlagen führen und Kunden beraten";
  EXPECT_EQ(analyze(text), analyze(text, "de"));
  EXPECT_EQ(analyzed_text(text), analyzed_text(text, Analysis::kGerman));
  // Other languages: lower-cased words, no stop words, no stems.
  EXPECT_EQ(analyze("Gérer les BUDGETS, l'équipe", "fr"),
            (std::vector<std::string>{"gérer", "les", "budgets", "l", "équipe"}));
}

}  // namespace
}  // namespace skillmatch::catalog
