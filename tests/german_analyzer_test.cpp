#include "catalog/german_analyzer.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace skillmatch::catalog
