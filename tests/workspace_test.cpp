// The workspace and the taxonomy readers on the real data shipped in data/: import counts,
// idempotent re-import, updates, filters, BM25, and every kind of bad input.
#include "skillmatch/catalog/workspace.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>

#include "catalog/analyzer.h"
#include "catalog/sqlite.h"
#include "core/zip.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "skillmatch/core/error.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;

fs::path shipped() {
  return SKILLMATCH_SHIPPED_DATA;
}
fs::path esco_csv() {
  return shipped() / "esco-de-1.1.0" / "skills_de_v1.1.0_enriched.csv";
}

const TaxonomyData& esco() {
  static const TaxonomyData d = read_esco_skills(esco_csv(), "esco-de", "1.1.0", "de");
  return d;
}

TEST(TaxonomyImport, ReadsEscoGermanAndGreta) {
  EXPECT_EQ(esco().skills.size(), 13891u);
  EXPECT_EQ(esco().info.attribution, kEscoAttribution);
  const auto& first = esco().skills.front();
  EXPECT_EQ(first.uri, "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab");
  EXPECT_EQ(first.label, "Musikpersonal verwalten");
  EXPECT_EQ(first.skill_type, "skill/competence");
  EXPECT_EQ(first.reuse_level, "sector-specific");
  EXPECT_FALSE(first.description.empty());
  std::size_t with_alt = 0;
  for (const auto& s : esco().skills) with_alt += !s.alt_labels.empty();
  EXPECT_EQ(with_alt, 215u);  // German alternative labels exist for 215 skills in this file

  const TaxonomyData greta = read_greta(shipped() / "greta" / "greta_facets_de.csv");
  EXPECT_EQ(greta.skills.size(), 23u);
  EXPECT_EQ(greta.skills[0].uri, "GRETA-1-1-1");
  EXPECT_EQ(greta.skills[0].label, "Lerninhalte und -ziele");
  EXPECT_NE(greta.skills[0].description.find("; "), std::string::npos);

  const auto green =
      read_esco_collection(shipped() / "esco-de-1.1.0" / "greenSkillsCollection_de.csv");
  EXPECT_EQ(green.size(), 570u);
  EXPECT_EQ(esco_collection_name("x/greenSkillsCollection_de.csv"), "green");
  EXPECT_EQ(esco_collection_name("digCompSkillsCollection_de.csv"), "digcomp");
}

TEST(TaxonomyImport, PlainEscoListAndCustomFormats) {
  test::TempDir dir;
  test::spit(
      dir / "plain.csv",
      "concept_uri,preferred_label,description\nu:1,Excel verwenden,\"Tabellen, Formeln\"\n");
  const auto plain = read_esco_skills(dir / "plain.csv", "p", "", "de");
  ASSERT_EQ(plain.skills.size(), 1u);
  EXPECT_EQ(plain.skills[0].description, "Tabellen, Formeln");

  test::spit(dir / "own.csv",
             "id,name,text,synonyms\nk1,Kochen,Speisen zubereiten,Küche | Garen\n");
  ColumnMapping m;
  m.uri = "id";
  m.label = "name";
  m.description = "text";
  m.alt_labels = "synonyms";
  const auto own = read_custom_taxonomy(dir / "own.csv", "own", m);
  ASSERT_EQ(own.skills.size(), 1u);
  EXPECT_EQ(own.skills[0].alt_labels, (std::vector<std::string>{"Küche", "Garen"}));

  test::spit(dir / "own.jsonl",
             "{\"uri\": \"a\", \"label\": \"A\", \"alt_labels\": [\"x\", \"y\"]}\n\n"
             "{\"uri\": \"b\", \"label\": \"B\", \"description\": \"bee\"}\n");
  const auto jl = read_custom_taxonomy(dir / "own.jsonl", "jl");
  ASSERT_EQ(jl.skills.size(), 2u);
  EXPECT_EQ(jl.skills[0].alt_labels.size(), 2u);
  EXPECT_EQ(jl.skills[1].description, "bee");
}

// Repeated alternative labels are dropped by a set: comparing each with all before was
// quadratic, 200,000 labels in one field took 18 s (a record may hold 16 MB).
TEST(TaxonomyImport, ManyAlternativeLabelsTakeLinearTime) {
  test::TempDir dir;
  std::string labels;
  for (int i = 0; i < 300000; ++i) labels += (i ? "|" : "") + std::to_string(i % 250000);
  test::spit(dir / "many.csv", "uri,label,alt_labels\nu1,A," + labels + "\n");
  const auto start = std::chrono::steady_clock::now();
  const auto t = read_custom_taxonomy(dir / "many.csv", "many");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(t.skills.size(), 1u);
  EXPECT_EQ(t.skills[0].alt_labels.size(), 250000u);
  EXPECT_EQ(t.skills[0].alt_labels[7], "7");
  EXPECT_LT(seconds, 20.0);  // well under a second; quadratic, it took minutes
}

TEST(TaxonomyImport, BadFilesNameFileAndLine) {
  test::TempDir dir;
  test::spit(dir / "dup.csv", "conceptUri,preferredLabel\nu1,A\nu2,B\nu1,C\n");
  test::expect_error([&] { read_esco_skills(dir / "dup.csv", "x", "", "de"); },
                     ErrorKind::kInvalidArgument, {"dup.csv line 4", "duplicate URI u1"});
  test::spit(dir / "broken.csv", "conceptUri,preferredLabel\nu1,\"A\nu2,B\n");
  test::expect_error([&] { read_esco_skills(dir / "broken.csv", "x", "", "de"); },
                     ErrorKind::kInvalidArgument, {"broken.csv line 2", "not closed"});
  test::spit(dir / "cols.csv", "uri,name\nu1,A\n");
  test::expect_error([&] { read_esco_skills(dir / "cols.csv", "x", "", "de"); },
                     ErrorKind::kInvalidArgument, {"cols.csv", "not an ESCO skills file"});
  test::spit(dir / "nolabel.csv", "conceptUri,preferredLabel\nu1,\n");
  test::expect_error([&] { read_esco_skills(dir / "nolabel.csv", "x", "", "de"); },
                     ErrorKind::kInvalidArgument, {"nolabel.csv line 2", "no label"});
  test::spit(dir / "bad.jsonl", "{\"uri\": \"a\", \"label\": \"A\"}\n{\"uri\": \"b\"\n");
  test::expect_error([&] { read_custom_taxonomy(dir / "bad.jsonl", "x"); },
                     ErrorKind::kInvalidArgument, {"bad.jsonl line 2", "invalid JSON"});
  test::spit(dir / "nolab.jsonl", "{\"uri\": \"a\"}\n");
  test::expect_error([&] { read_custom_taxonomy(dir / "nolab.jsonl", "x"); },
                     ErrorKind::kInvalidArgument, {"nolab.jsonl line 1", "no \"label\""});
  test::expect_error([&] { read_greta(dir / "missing.csv"); }, ErrorKind::kNotFound,
                     {"missing.csv"});
  // A NUL byte is refused alike in CSV and JSON Lines.
  test::spit(dir / "nul.csv", std::string("uri,label\nk1,A\nk2,B\0C\n", 22));
  test::expect_error([&] { read_custom_taxonomy(dir / "nul.csv", "x"); },
                     ErrorKind::kInvalidArgument, {"nul.csv line 3", "NUL byte"});
  test::spit(dir / "nul.jsonl", "{\"uri\": \"a\", \"label\": \"A\\u0000B\"}\n");
  test::expect_error([&] { read_custom_taxonomy(dir / "nul.jsonl", "x"); },
                     ErrorKind::kInvalidArgument, {"nul.jsonl line 1", "NUL byte"});
}

class WorkspaceTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
};

TEST_F(WorkspaceTest, ImportIsIdempotentAndTouchesOnlyWhatChanged) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  ImportStats s = ws.import_taxonomy(esco().info, esco().skills);
  EXPECT_EQ(s.added, 13891u);
  EXPECT_EQ(ws.skill_count(), 13891u);
  const auto before = ws.find("esco-de", esco().skills[10].uri);
  ASSERT_TRUE(before.has_value());

  s = ws.import_taxonomy(esco().info, esco().skills);
  EXPECT_EQ(s.added, 0u);
  EXPECT_EQ(s.updated, 0u);
  EXPECT_EQ(s.unchanged, 13891u);

  auto changed = esco().skills;
  changed[10].description = "Neue Beschreibung: Tabellenkalkulation mit Pivot";
  changed.erase(changed.begin() + 20);
  s = ws.import_taxonomy(esco().info, changed);
  EXPECT_EQ(s.updated, 1u);
  EXPECT_EQ(s.removed, 1u);
  EXPECT_EQ(s.unchanged, 13889u);
  const auto after = ws.find("esco-de", esco().skills[10].uri);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->id, before->id);  // ids are stable across updates
  EXPECT_EQ(after->record.description, "Neue Beschreibung: Tabellenkalkulation mit Pivot");
  EXPECT_FALSE(ws.find("esco-de", esco().skills[20].uri).has_value());
  // The full-text index follows the update.
  const auto hits = ws.bm25("Pivot", 5);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].skill_id, after->id);
}

TEST_F(WorkspaceTest, FiltersByTaxonomyCollectionAndType) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  ws.import_taxonomy(esco().info, esco().skills);
  const TaxonomyData greta = read_greta(shipped() / "greta" / "greta_facets_de.csv");
  ws.import_taxonomy(greta.info, greta.skills);
  const auto green =
      read_esco_collection(shipped() / "esco-de-1.1.0" / "greenSkillsCollection_de.csv");
  EXPECT_EQ(ws.set_collection("esco-de", "green", green), 570u);
  EXPECT_EQ(ws.taxonomies().size(), 2u);
  EXPECT_EQ(ws.skill_count({{"greta"}, {}, {}, {}}), 23u);
  EXPECT_EQ(ws.skill_count({{}, {"green"}, {}, {}}), 570u);
  const std::size_t knowledge = ws.skill_count({{"esco-de"}, {}, {"knowledge"}, {}});
  EXPECT_GT(knowledge, 1000u);
  EXPECT_LT(knowledge, 13891u);
  for (const auto& h : ws.bm25("Abfall Recycling Umwelt", 20, {{}, {"green"}, {}, {}})) {
    const auto s = ws.skill(h.skill_id);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->collections, (std::vector<std::string>{"green"}));
  }
  const auto g = ws.bm25("Lerninhalte und Lernziele festlegen", 3, {{"greta"}, {}, {}, {}});
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(ws.skill(g[0].skill_id)->record.uri, "GRETA-1-1-1");
}

TEST_F(WorkspaceTest, Bm25RanksLabelMatchesFirst) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  ws.import_taxonomy(esco().info, esco().skills);
  const auto hits = ws.bm25("Kurs: Buchhaltung für Einsteiger", 10);
  ASSERT_GE(hits.size(), 5u);
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  const auto top = ws.skill(hits[0].skill_id);
  EXPECT_NE(top->record.label.find("Buchhaltung"), std::string::npos) << top->record.label;
  EXPECT_TRUE(ws.bm25("und der die", 10).empty());
  EXPECT_THROW(ws.bm25("bad \xFF", 10), Error);
}

// A field of weight 0 is not searched: a word only in an alternative label finds nothing then.
TEST_F(WorkspaceTest, Bm25FieldWeights) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  SkillRecord a, b;
  a.uri = "a";
  a.label = "Tabellen bearbeiten";
  a.alt_labels = {"Spreadsheet"};
  a.description = "Zahlen ordnen";
  b.uri = "b";
  b.label = "Vorlagen gestalten";
  b.description = "Vorlagen";
  ws.import_taxonomy({"t", "T", "1", "de", "test", "", ""}, {a, b});
  EXPECT_EQ(ws.bm25("Spreadsheet", 5).size(), 1u);
  EXPECT_TRUE(ws.bm25("Spreadsheet", 5, {}, {3, 0, 1}).empty());
  EXPECT_EQ(ws.bm25("Zahlen", 5, {}, {3, 2, 1}).size(), 1u);
  EXPECT_TRUE(ws.bm25("Zahlen", 5, {}, {1, 1, 0}).empty());
  EXPECT_THROW(ws.bm25("Zahlen", 5, {}, {0, 0, 0}), Error);
  EXPECT_THROW(ws.bm25("Zahlen", 5, {}, {-1, 1, 1}), Error);
}

// A tiny custom taxonomy in `language`, read from CSV as `skillmatch import custom` reads it.
TaxonomyData custom(const fs::path& dir, const std::string& name, const std::string& language,
                    const std::string& rows) {
  const fs::path file = dir / (name + ".csv");
  test::spit(file, "uri,label\n" + rows);
  TaxonomyData d = read_custom_taxonomy(file, name);
  d.info.language = language;
  return d;
}

std::vector<std::string> uris(const Workspace& ws, const std::vector<Bm25Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(ws.skill(h.skill_id)->record.uri);
  return out;
}

// An English taxonomy is indexed and searched with English analysis: "managing budgets" finds
// "manage budget" first. German analysis (what every taxonomy got before) stems "managing" to
// itself, so only "budget" matched and the shorter "budget" skill won.
TEST_F(WorkspaceTest, Bm25AnalysesAnEnglishTaxonomyInEnglish) {
  const std::string rows = "e1,manage budget\ne2,budget\ne3,cook meals\n";
  Workspace en = Workspace::open(dir_ / "en", true);
  en.import(custom(dir_.path(), "own", "en", rows), false);
  EXPECT_EQ(uris(en, en.bm25("managing budgets", 5)), (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(uris(en, en.bm25("managing", 5)), std::vector<std::string>{"e1"});
  EXPECT_EQ(uris(en, en.bm25("cooking a meal", 5)), std::vector<std::string>{"e3"});

  Workspace de = Workspace::open(dir_ / "de", true);
  de.import(custom(dir_.path(), "own", "de", rows), false);
  EXPECT_EQ(uris(de, de.bm25("managing budgets", 5)), (std::vector<std::string>{"e2", "e1"}));
  EXPECT_TRUE(de.bm25("managing", 5).empty());

  // Imported again in English, the German-analysed rows of unchanged skills are analysed anew.
  const ImportReport again = de.import(custom(dir_.path(), "own", "en", rows), false);
  EXPECT_EQ(again.stats.unchanged, 3u);
  EXPECT_EQ(uris(de, de.bm25("managing budgets", 5)), (std::vector<std::string>{"e1", "e2"}));
  // A language without a stemmer: lower-cased words only, no stop words.
  Workspace fr = Workspace::open(dir_ / "fr", true);
  fr.import(custom(dir_.path(), "fr", "fr", "f1,Gérer LE budget\n"), false);
  EXPECT_EQ(uris(fr, fr.bm25("le BUDGET", 5)), std::vector<std::string>{"f1"});
  EXPECT_TRUE(fr.bm25("budgets", 5).empty());
}

// German and English taxonomies side by side: one query finds skills of both, its German terms
// matched against the German taxonomy and its English terms against the English one; the hits
// are those of the two searches merged by score.
TEST_F(WorkspaceTest, Bm25MatchesEachTaxonomyInItsLanguage) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  ws.import(custom(dir_.path(), "de-t", "de", "d1,Buchhaltung führen\nd2,Kunden beraten\n"), false);
  ws.import(custom(dir_.path(), "en-t", "en", "e1,manage budget\ne2,advise customers\n"), false);
  const std::string query = "Buchhaltungen führen, managing budgets";
  const auto hits = ws.bm25(query, 10);
  std::vector<std::string> found = uris(ws, hits);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"d1", "e1"}));
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);

  // Each language alone: CISTEM folds "Buchhaltungen" (Porter2 would not), Porter2 "managing"
  // (CISTEM would not).
  EXPECT_EQ(uris(ws, ws.bm25("Buchhaltungen", 10)), std::vector<std::string>{"d1"});
  EXPECT_EQ(uris(ws, ws.bm25("managing", 10)), std::vector<std::string>{"e1"});

  // The merged list is the two one-language searches merged: same skills, same scores.
  auto de = ws.bm25(query, 10, {{"de-t"}, {}, {}, {}});
  const auto en = ws.bm25(query, 10, {{"en-t"}, {}, {}, {}});
  ASSERT_EQ(de.size(), 1u);
  ASSERT_EQ(en.size(), 1u);
  de.insert(de.end(), en.begin(), en.end());
  std::sort(de.begin(), de.end(), [](const Bm25Hit& a, const Bm25Hit& b) {
    return a.score != b.score ? a.score > b.score : a.skill_id < b.skill_id;
  });
  ASSERT_EQ(hits.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(hits[i].skill_id, de[i].skill_id);
    EXPECT_EQ(hits[i].score, de[i].score);
  }
  // At most k, the best first; the filters still apply.
  const auto best = ws.bm25(query, 1);
  ASSERT_EQ(best.size(), 1u);
  EXPECT_EQ(best[0].skill_id, hits[0].skill_id);
  SkillFilter untyped;
  untyped.skill_types = {""};  // custom lists without a type column
  EXPECT_EQ(ws.bm25(query, 10, untyped).size(), 2u);
  test::expect_error(
      [&] {
        ws.bm25(query, 10, {{"nope"}, {}, {}, {}});
      },
      ErrorKind::kInvalidArgument, {"no taxonomy 'nope'"});
  EXPECT_TRUE(ws.bm25("the and of", 10).empty());  // stop words of both languages
}

// A workspace indexed before languages were told apart (every taxonomy analysed as German, no
// analyser version) has its non-German rows analysed again once, when it is opened.
TEST_F(WorkspaceTest, OldAnalysisIsUpdatedOnOpen) {
  std::int64_t e1 = 0, d1 = 0;
  std::uint64_t generation = 0;
  {
    Workspace ws = Workspace::open(dir_ / "ws", true);
    EXPECT_EQ(ws.meta("analyzer_version").value_or(""), std::to_string(catalog::kAnalyzerVersion));
    ws.import(custom(dir_.path(), "de-t", "de", "d1,Buchhaltung führen\n"), false);
    ws.import(custom(dir_.path(), "en-t", "en", "e1,manage budget\ne2,budget\n"), false);
    e1 = ws.find("en-t", "e1")->id;
    d1 = ws.find("de-t", "d1")->id;
    generation = ws.generation();
  }
  auto fts_label = [&](std::int64_t id) {
    sql::Db db(dir_ / "ws" / "skillmatch.db", false);
    sql::Stmt q(db, "SELECT label FROM skill_fts WHERE rowid = ?");
    q.bind(1, id);
    EXPECT_TRUE(q.step());
    return q.text(0);
  };
  EXPECT_EQ(fts_label(e1), "manag budget");
  EXPECT_EQ(fts_label(d1), catalog::analyzed_text("Buchhaltung führen", "de"));
  // What an older skillmatch wrote: German rows for every skill, no analyser version.
  {
    sql::Db db(dir_ / "ws" / "skillmatch.db", false);
    db.exec("DELETE FROM meta WHERE key = 'analyzer_version'");
    sql::Stmt skills(db, "SELECT id, label, alt_labels, description FROM skill");
    sql::Stmt set(
        db, "UPDATE skill_fts SET label = ?, alt_labels = ?, description = ? WHERE rowid = ?");
    while (skills.step()) {
      set.reset();
      set.bind(1, catalog::analyzed_text(skills.text(1), "de"))
          .bind(2, catalog::analyzed_text(skills.text(2), "de"))
          .bind(3, catalog::analyzed_text(skills.text(3), "de"))
          .bind(4, skills.int64(0))
          .run();
    }
  }
  EXPECT_EQ(fts_label(e1), "manag budg");
  {
    Workspace ws = Workspace::open(dir_ / "ws", false);
    EXPECT_EQ(ws.meta("analyzer_version").value_or(""), std::to_string(catalog::kAnalyzerVersion));
    EXPECT_GT(ws.generation(), generation);  // what BM25 finds changed: snapshots are renewed
    generation = ws.generation();
    EXPECT_EQ(uris(ws, ws.bm25("managing budgets", 5)), (std::vector<std::string>{"e1", "e2"}));
    EXPECT_EQ(uris(ws, ws.bm25("Buchhaltungen", 5)), std::vector<std::string>{"d1"});
  }
  EXPECT_EQ(fts_label(e1), "manag budget");
  EXPECT_EQ(fts_label(d1), catalog::analyzed_text("Buchhaltung führen", "de"));
  // Once: the next open changes nothing.
  EXPECT_EQ(Workspace::open(dir_ / "ws", false).generation(), generation);

  // A German-only workspace without the key just gets it; its rows and generation stay.
  {
    Workspace ws = Workspace::open(dir_ / "de", true);
    ws.import(custom(dir_.path(), "de-t", "de", "d1,Buchhaltung führen\n"), false);
    generation = ws.generation();
  }
  {
    sql::Db db(dir_ / "de" / "skillmatch.db", false);
    db.exec("DELETE FROM meta WHERE key = 'analyzer_version'");
  }
  Workspace de = Workspace::open(dir_ / "de", false);
  EXPECT_EQ(de.meta("analyzer_version").value_or(""), std::to_string(catalog::kAnalyzerVersion));
  EXPECT_EQ(de.generation(), generation);

  // An index of a newer analysis is refused, as a newer format is.
  de.set_meta("analyzer_version", "99");
  test::expect_error([&] { Workspace::open(dir_ / "de", false); }, ErrorKind::kUnsupported,
                     {"newer skillmatch", "text analyser version 99"});
}

// The hierarchy: ESCO's groups and broader links (v1.2, shipped) and GRETA's aspects and areas.
TEST_F(WorkspaceTest, HierarchyRestrictsToEverythingBelowAGroup) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  TaxonomyData d = esco();
  read_esco_hierarchy(shipped() / "esco-de-1.1.0" / "broaderRelationsSkillPillar_v1.2.csv",
                      shipped() / "esco-de-1.1.0" / "skillGroups_de_v1.2.csv", d);
  EXPECT_EQ(d.groups.size(), 640u);
  EXPECT_EQ(d.links.size(), 20822u);
  ws.import_taxonomy(d.info, d.skills);
  EXPECT_EQ(ws.set_hierarchy("esco-de", d.groups, d.links), 20822u);
  const TaxonomyData greta = read_greta(shipped() / "greta" / "greta_facets_de.csv");
  EXPECT_EQ(greta.groups.size(), 4u + 10u);  // 4 competence aspects, 10 areas
  ws.import_taxonomy(greta.info, greta.skills);
  ws.set_hierarchy("greta", greta.groups, greta.links);

  SkillFilter s4;
  s4.groups = {"S4"};  // management skills, by code
  const std::size_t management = ws.skill_count(s4);
  EXPECT_GT(management, 1000u);
  EXPECT_LT(management, 13891u);
  SkillFilter by_label;
  by_label.groups = {"Führung und Motivation"};  // S4.5 by its label
  const std::size_t s40 = ws.skill_count(by_label);
  EXPECT_GT(s40, 0u);
  EXPECT_LT(s40, management);
  // Transitive: a skill under a skill under S4 counts, and a group's count from groups()
  // equals the filter's.
  for (const auto& g : ws.groups({{"esco-de"}, {}, {}, {}})) {
    if (g.group.code == "S4") {
      EXPECT_EQ(g.skills, management);
    }
    if (g.group.code == "S4.5") {
      EXPECT_EQ(g.skills, s40);
    }
  }
  // Every skill below S4.5 is also below S4; BM25 honours the filter.
  const auto ids = ws.skill_ids(s4);
  EXPECT_EQ(ids.size(), management);
  const auto hits = ws.bm25("Mitarbeiter führen und motivieren", 30, by_label);
  EXPECT_FALSE(hits.empty());
  for (const auto& h : hits) {
    EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), h.skill_id));
  }
  SkillFilter aspect;
  aspect.groups = {"1"};  // GRETA "Berufspraktisches Wissen und Können"
  EXPECT_EQ(ws.skill_count(aspect), 10u);
  aspect.groups = {"GRETA-1-1"};
  EXPECT_EQ(ws.skill_count(aspect), 4u);  // area "Didaktik und Methodik"
  SkillFilter unknown;
  unknown.groups = {"S99"};
  test::expect_error([&] { ws.skill_count(unknown); }, ErrorKind::kInvalidArgument,
                     {"no skill group 'S99'", "skillmatch groups"});
  // Replacing the hierarchy replaces it.
  ws.set_hierarchy("esco-de", {{"g", "G", "Gruppe"}}, {{d.skills[0].uri, "g"}});
  SkillFilter g;
  g.groups = {"G"};
  EXPECT_EQ(ws.skill_count(g), 1u);
  test::expect_error([&] { ws.skill_count(s4); }, ErrorKind::kInvalidArgument, {"S4"});
  test::expect_error([&] { ws.set_hierarchy("nope", {}, {}); }, ErrorKind::kNotFound, {"nope"});
}

TEST_F(WorkspaceTest, BadRecordsAreRefusedAndNothingIsWritten) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  TaxonomyInfo info{"t", "T", "1", "de", "test", "", ""};
  std::vector<SkillRecord> recs = {{"u1", "A", {}, "", "", "", {}},
                                   {"u1", "B", {}, "", "", "", {}}};
  test::expect_error([&] { ws.import_taxonomy(info, recs); }, ErrorKind::kInvalidArgument,
                     {"duplicate URI u1"});
  recs[1].uri = "u2";
  recs[1].label = "";
  test::expect_error([&] { ws.import_taxonomy(info, recs); }, ErrorKind::kInvalidArgument,
                     {"u2", "empty label"});
  recs[1].label = "bad \xC3";
  test::expect_error([&] { ws.import_taxonomy(info, recs); }, ErrorKind::kInvalidArgument,
                     {"u2", "invalid UTF-8"});
  recs[1].label = std::string("a\0b", 3);
  test::expect_error([&] { ws.import_taxonomy(info, recs); }, ErrorKind::kInvalidArgument,
                     {"u2", "NUL byte"});
  EXPECT_EQ(ws.skill_count(), 0u);
  EXPECT_TRUE(ws.taxonomies().empty());
}

// One import is one transaction: a failure in its hierarchy or a collection leaves nothing, and a
// list imported under an existing name does not silently replace that taxonomy.
TEST_F(WorkspaceTest, OneImportIsOneTransactionAndRemovalNeedsReplace) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  TaxonomyData d;
  d.info = {"t", "T", "1", "de", "test", "", ""};
  d.skills = {{"u1", "A", {}, "", "", "", {}}, {"u2", "B", {}, "", "", "", {}}};
  d.groups = {{"", "G", "no URI"}};
  const auto g0 = ws.generation();
  test::expect_error([&] { ws.import(d, false); }, ErrorKind::kInvalidArgument, {"has no URI"});
  EXPECT_EQ(ws.skill_count(), 0u);
  EXPECT_TRUE(ws.taxonomies().empty());
  EXPECT_EQ(ws.generation(), g0);
  d.groups = {{"g", "G", "Gruppe"}};
  d.links = {{"u1", "g"}};
  d.collections = {{"green", {"u2", "u9"}}};
  const ImportReport r = ws.import(d, false);
  EXPECT_EQ(r.taxonomy, "t");
  EXPECT_EQ(r.stats.added, 2u);
  EXPECT_EQ(r.links, 1u);
  ASSERT_EQ(r.collections.size(), 1u);
  EXPECT_EQ(r.collections[0].stored, 1u);
  EXPECT_EQ(r.collections[0].listed, 2u);
  EXPECT_GT(ws.generation(), g0);
  const auto snap = ws.snapshot();
  EXPECT_EQ(snap->skills.size(), 2u);
  EXPECT_EQ(snap->generation, ws.generation());
  EXPECT_EQ(snap->find(ws.find("t", "u2")->id)->collections, std::vector<std::string>{"green"});
  TaxonomyData other = d;
  other.skills = {{"x1", "X", {}, "", "", "", {}}};
  other.groups.clear();
  other.links.clear();
  other.collections.clear();
  test::expect_error([&] { ws.import(other, false); }, ErrorKind::kInvalidArgument,
                     {"would remove 2 of its 2 skills", "--replace"});
  EXPECT_EQ(ws.skill_count(), 2u);
  EXPECT_EQ(ws.import(other, true).stats.removed, 2u);
  EXPECT_EQ(ws.skill_count(), 1u);
}

TEST_F(WorkspaceTest, RefusesMissingForeignAndNewerWorkspaces) {
  test::expect_error([&] { Workspace::open(dir_ / "nope", false); }, ErrorKind::kNotFound,
                     {"no workspace", "nope"});
  fs::create_directories(dir_ / "junk");
  test::spit(dir_ / "junk" / "skillmatch.db", std::string(4096, 'x'));
  test::expect_error([&] { Workspace::open(dir_ / "junk", false); }, ErrorKind::kCorrupt,
                     {"skillmatch.db"});
  {
    Workspace ws = Workspace::open(dir_ / "new", true);
    ws.set_meta("format_version", "99");
  }
  test::expect_error([&] { Workspace::open(dir_ / "new", false); }, ErrorKind::kUnsupported,
                     {"newer skillmatch", "format 99"});
  {
    fs::create_directories(dir_ / "other");
    sql::Db db(dir_ / "other" / "skillmatch.db", true);
    db.exec("CREATE TABLE t(x)");
  }
  test::expect_error([&] { Workspace::open(dir_ / "other", false); }, ErrorKind::kCorrupt,
                     {"not a skillmatch workspace"});
}

TEST_F(WorkspaceTest, MetadataRoundTrips) {
  Workspace ws = Workspace::open(dir_ / "ws", true);
  EXPECT_EQ(ws.meta("format_version").value_or(""), "1");
  EXPECT_FALSE(ws.meta("model").has_value());
  ws.set_meta("model", "e5");
  ws.set_meta("model", "e5-tuned");
  EXPECT_EQ(Workspace::open(dir_ / "ws", false).meta("model").value_or(""), "e5-tuned");
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

TEST(EscoExport, ReadsTheOfficialZipWithCollections) {
  const TaxonomyData e =
      read_esco_export(test::test_data() / "esco_export_sample.zip", "esco-en", "", "en");
  ASSERT_EQ(e.skills.size(), 60u);
  EXPECT_EQ(e.skills[0].label, "manage musical staff");
  EXPECT_EQ(e.skills[0].alt_labels.size(), 5u);
  EXPECT_EQ(e.skills[0].alt_labels[0], "manage staff of music");
  EXPECT_EQ(e.skills[0].skill_type, "skill/competence");
  ASSERT_EQ(e.collections.size(), 1u);
  EXPECT_EQ(e.collections[0].first, "green");
  EXPECT_EQ(e.collections[0].second.size(), 6u);
  test::expect_error(
      [&] { read_esco_export(test::test_data() / "esco_export_sample.zip", "x", "", "de"); },
      ErrorKind::kInvalidArgument, {"no skills_de.csv"});
}

// The official English export shipped in data/esco-en-1.1.0, as downloaded.
TEST(EscoExport, ShippedEnglishExport) {
  const fs::path zip = fs::path(SKILLMATCH_SHIPPED_DATA) / "esco-en-1.1.0" /
                       "ESCO dataset - v1.1.0 - classification - en - csv.zip";
  const TaxonomyData e = read_esco_export(zip, "esco-en", "", "en");
  EXPECT_EQ(e.skills.size(), 13891u);
  EXPECT_EQ(e.info.version, "1.1.0");
  EXPECT_EQ(e.collections.size(), 6u);
}

// A ZIP archive of stored entries, as ESCO's exports are laid out (for hand-made cases).
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, central;
  auto u16 = [](std::string& s, unsigned v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>((v >> 8) & 0xff);
  };
  auto u32 = [&](std::string& s, unsigned long v) {
    u16(s, static_cast<unsigned>(v & 0xffff));
    u16(s, static_cast<unsigned>(v >> 16));
  };
  for (const auto& [name, data] : entries) {
    const unsigned long crc =
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    const unsigned long offset = out.size();
    u32(out, 0x04034b50);
    u16(out, 20), u16(out, 0), u16(out, 0), u16(out, 0), u16(out, 0);
    u32(out, crc), u32(out, data.size()), u32(out, data.size());
    u16(out, static_cast<unsigned>(name.size())), u16(out, 0);
    out += name + data;
    u32(central, 0x02014b50);
    u16(central, 20), u16(central, 20), u16(central, 0), u16(central, 0), u16(central, 0),
        u16(central, 0);
    u32(central, crc), u32(central, data.size()), u32(central, data.size());
    u16(central, static_cast<unsigned>(name.size()));
    for (int i = 0; i < 4; ++i) u16(central, 0);
    u32(central, 0), u32(central, offset);
    central += name;
  }
  const unsigned long at = out.size();
  out += central;
  u32(out, 0x06054b50);
  u16(out, 0), u16(out, 0);
  u16(out, static_cast<unsigned>(entries.size())), u16(out, static_cast<unsigned>(entries.size()));
  u32(out, central.size()), u32(out, at);
  u16(out, 0);
  return out;
}

// Errors inside an export's entries name the archive and the entry (they named a temporary
// file that no longer existed), and the names of the entries read are text (found by fuzzing: a
// collection named by an entry with NUL bytes reached the taxonomy).
TEST(EscoExport, ErrorsNameArchiveAndEntry) {
  test::TempDir dir;
  const std::string skills = "conceptUri,preferredLabel\nu1,Label\n";
  test::spit(dir / "ok.zip", stored_zip({{"skills_de.csv", skills},
                                         {"x/greenSkillsCollection_de.csv", "conceptUri\nu1\n"}}));
  const TaxonomyData ok = read_esco_export(dir / "ok.zip", "esco", "1", "de");
  EXPECT_EQ(ok.info.source, (dir / "ok.zip").string() + ":skills_de.csv");
  ASSERT_EQ(ok.collections.size(), 1u);
  EXPECT_EQ(ok.collections[0].first, "green");
  test::spit(dir / "bad.zip", stored_zip({{"skills_de.csv", skills + "u2,\"open\n"}}));
  test::expect_error([&] { read_esco_export(dir / "bad.zip", "esco", "1", "de"); },
                     ErrorKind::kInvalidArgument,
                     {(dir / "bad.zip").string() + ":skills_de.csv line 3: a quoted field"});
  test::spit(dir / "nul.zip",
             stored_zip({{"skills_de.csv", skills},
                         {std::string("a\0b", 3) + "SkillsCollection_de.csv", ""}}));
  test::expect_error([&] { read_esco_export(dir / "nul.zip", "esco", "1", "de"); },
                     ErrorKind::kCorrupt, {"nul.zip: an entry named like an ESCO file"});
}

TEST(Zip, DamagedArchivesAreRefused) {
  test::TempDir dir;
  const std::string good = test::slurp(test::test_data() / "esco_export_sample.zip");
  test::spit(dir / "short.zip", good.substr(0, 10));
  test::expect_error([&] { ZipReader z(dir / "short.zip"); }, ErrorKind::kCorrupt,
                     {"short.zip", "not a valid ZIP"});
  std::string flipped = good;
  flipped[200] = static_cast<char>(flipped[200] ^ 0x55);  // inside the first entry's data
  test::spit(dir / "flipped.zip", flipped);
  ZipReader z(dir / "flipped.zip");
  EXPECT_THROW(z.read("skills_en.csv"), Error);
  EXPECT_THROW(z.read("missing.csv"), Error);
  const ZipReader ok(test::test_data() / "esco_export_sample.zip");
  EXPECT_TRUE(ok.contains("README.txt"));
  EXPECT_EQ(ok.read("README.txt"), "sample of the ESCO v1.1.0 English export");
}

// The sizes of an entry's header are checked against the data, never allocated ahead of it (the
// fuzzer's first finding: 48 bytes claiming 540 MB made the reader allocate them).
TEST(Zip, SizesInTheHeaderAreNotTrusted) {
  test::TempDir dir;
  const std::string good = test::slurp(test::test_data() / "esco_export_sample.zip");
  const std::size_t central = good.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  const std::string name = good.substr(central + 46, 13);
  ASSERT_EQ(name, "skills_en.csv");
  auto with_size = [&](std::uint32_t size) {
    std::string z = good;
    for (int i = 0; i < 4; ++i) z[central + 24 + i] = static_cast<char>(size >> (8 * i));
    return z;
  };
  test::spit(dir / "huge.zip", with_size(0xC0000000u));
  test::expect_error([&] { ZipReader(dir / "huge.zip").read(name); }, ErrorKind::kCorrupt,
                     {"huge.zip: skills_en.csv: damaged compressed data"});
  test::spit(dir / "small.zip", with_size(10));
  test::expect_error(
      [&] { ZipReader(dir / "small.zip").read(name); }, ErrorKind::kCorrupt,
      {"small.zip: skills_en.csv: the compressed data holds more than the 10 bytes"});
}

// torch.save writes a ZIP64 end-of-central-directory record, from which libtorch's reader takes
// the central directory: it must agree with the plain record (fuzz_pytorch_bin found an offset
// near 2^64 that wrapped past libtorch's bounds check: a heap-buffer-overflow).
TEST(Zip, TheZip64RecordMustAgree) {
  test::TempDir dir;
  const std::string good = test::slurp(test::test_data() / "pytorch_model.bin");
  const std::size_t zip64 = good.rfind("PK\x06\x06");
  ASSERT_NE(zip64, std::string::npos);
  EXPECT_NO_THROW(ZipReader{test::test_data() / "pytorch_model.bin"});
  std::string bad = good;
  const std::uint64_t offset = ~std::uint64_t{45};  // 2^64 - 46
  for (int i = 0; i < 8; ++i) bad[zip64 + 48 + i] = static_cast<char>(offset >> (8 * i));
  test::spit(dir / "pytorch_model.bin", bad);
  test::expect_error([&] { ZipReader z(dir / "pytorch_model.bin"); }, ErrorKind::kCorrupt,
                     {"pytorch_model.bin", "ZIP64 end of central directory disagrees"});
}

}  // namespace
}  // namespace skillmatch
