// A thin RAII layer over SQLite: a connection, prepared statements, transactions. Private to the
// catalog layer. Every failure throws skillmatch::Error naming the database file and SQLite's
// message. Not thread-safe: one Db per thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace skillmatch::sql {

class Db {
 public:
  // Opens (creating if `create`) the database file; sets a busy timeout, foreign keys on and
  // WAL journaling so that readers never see a half-done write.
  Db(const std::filesystem::path& file, bool create);
  ~Db();
  Db(Db&& other) noexcept;
  Db& operator=(Db&&) = delete;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);
  sqlite3* handle() const noexcept { return db_; }
  const std::filesystem::path& file() const noexcept { return file_; }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
};

class Stmt {
 public:
  Stmt(const Db& db, const std::string& sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binders take 1-based indices and return *this for chaining.
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_blob(int i, const void* data, std::size_t n);
  Stmt& bind_null(int i);

  // Steps once: true when a row is available, false when done.
  bool step();
  // Steps to the end (for statements without results).
  void run();
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  const Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

// The format number a store keeps in its `meta(key, value)` table under `key`: false when the key
// is absent; throws kCorrupt when the value is not a number and kUnsupported when it is above
// `max_version` (a newer skillmatch wrote it). `what` names it in messages ("workspace format").
bool check_format_version(const Db& db, const std::string& key, int max_version,
                          const std::string& what);

}  // namespace skillmatch::sql
