#include "skillmatch/core/csv.h"

#include <gtest/gtest.h>

#include "skillmatch/core/error.h"
#include "test_util.h"

namespace skillmatch {
namespace {

using Row = std::vector<std::string>;

std::vector<Row> read_all(CsvReader& r) {
  std::vector<Row> rows;
  Row row;
  while (r.next(row)) rows.push_back(row);
  return rows;
}

TEST(Csv, QuotesNewlinesCrlfAndBom) {
  test::TempDir dir;
  test::spit(dir / "a.csv",
             "\xEF\xBB\xBFuri,label,description\r\n"
             "u1,Excel,\"Tabellen, Formeln\"\r\n"
             "u2,\"Sagen \"\"Hallo\"\"\",\"zwei\nZeilen\"\n"
             "u3,,\n"
             "\n");
  CsvReader r(dir / "a.csv");
  EXPECT_EQ(r.header(), (Row{"uri", "label", "description"}));
  EXPECT_EQ(r.require_column("label"), 1u);
  EXPECT_FALSE(r.column("nope").has_value());
  const auto rows = read_all(r);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (Row{"u1", "Excel", "Tabellen, Formeln"}));
  EXPECT_EQ(rows[1], (Row{"u2", "Sagen \"Hallo\"", "zwei\nZeilen"}));
  EXPECT_EQ(rows[2], (Row{"u3", "", ""}));
}

TEST(Csv, TextInMemoryIsNamedAsGiven) {
  CsvReader r(std::string("\xEF\xBB\xBF"
                          "a,b\n1,2\n3\n"),
              "export.zip:skills.csv");
  EXPECT_EQ(r.header(), (Row{"a", "b"}));
  Row row;
  ASSERT_TRUE(r.next(row));
  EXPECT_EQ(row, (Row{"1", "2"}));
  test::expect_error([&] { r.next(row); }, ErrorKind::kInvalidArgument,
                     {"export.zip:skills.csv line 3: 1 fields, but the header has 2"});
  test::expect_error([&] { CsvReader(std::string(), "empty.csv"); }, ErrorKind::kInvalidArgument,
                     {"empty.csv: the file is empty"});
}

// A record of commas is refused past 65,536 fields: 16 MB of them made 16 million empty strings
// (over half a gigabyte) within the 16 MB record limit.
TEST(Csv, RecordsHaveABoundedNumberOfFields) {
  const std::string wide(kMaxCsvFields - 1, ',');
  CsvReader ok(wide + "\n" + wide + "\n", "ok.csv");
  std::vector<std::string> row;
  ASSERT_TRUE(ok.next(row));
  EXPECT_EQ(row.size(), kMaxCsvFields);
  test::expect_error([&] { CsvReader(std::string(1u << 24, ','), "commas.csv"); },
                     ErrorKind::kInvalidArgument,
                     {"commas.csv line 1: more than 65536 fields in a record"});
}

TEST(Csv, LineNumbersCountNewlinesInsideQuotes) {
  test::TempDir dir;
  test::spit(dir / "b.csv", "a,b\n1,\"x\ny\"\n2\n");
  CsvReader r(dir / "b.csv");
  Row row;
  ASSERT_TRUE(r.next(row));
  EXPECT_EQ(r.line(), 2u);
  try {
    r.next(row);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.csv line 4: 1 fields, but the header has 2"),
              std::string::npos)
        << e.what();
  }
}

TEST(Csv, MalformedFilesNameFileAndLine) {
  test::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a,b\n1,\"open\n", "line 2: a quoted field is not closed"},
      {"a,b\n1,\"x\"y\n", "line 2: unexpected character after a closing quote"},
      {"a,b\n1,\xFF\n", "line 2: field 2: invalid UTF-8"},
  };
  for (const auto& [text, message] : bad) {
    test::spit(dir / "bad.csv", text);
    CsvReader r(dir / "bad.csv");
    try {
      read_all(r);
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("bad.csv " + message), std::string::npos) << e.what();
    }
  }
  test::spit(dir / "empty.csv", "");
  EXPECT_THROW(CsvReader(dir / "empty.csv"), Error);
  EXPECT_THROW(CsvReader(dir / "missing.csv"), Error);
  test::spit(dir / "h.csv", "a,b\n");
  CsvReader h(dir / "h.csv");
  EXPECT_THROW(h.require_column("c"), Error);
}

TEST(Csv, RecordSizeIsBounded) {
  test::TempDir dir;
  test::spit(dir / "big.csv", "a\n\"" + std::string(1000, 'x'));
  CsvReader r(dir / "big.csv", 100);
  Row row;
  EXPECT_THROW(r.next(row), Error);
}

}  // namespace
}  // namespace skillmatch
