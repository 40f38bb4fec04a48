#include "catalog/sqlite.h"

#include "skillmatch/core/error.h"

namespace skillmatch::sql {

Db::Db(const std::filesystem::path& file, bool create) : file_(file) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(create ? ErrorKind::kIo : ErrorKind::kNotFound,
                "cannot open database " + file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_extended_result_codes(db_, 1);
  exec("PRAGMA foreign_keys = ON");
  exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA synchronous = NORMAL");
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Db::Db(Db&& other) noexcept : db_(other.db_), file_(std::move(other.file_)) {
  other.db_ = nullptr;
}

void Db::fail(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_);
  const ErrorKind kind = (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB
                             ? ErrorKind::kCorrupt
                             : ErrorKind::kIo;
  throw Error(kind, file_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    fail("cannot run '" + sql.substr(0, 60) + "'");
  }
}

Stmt::Stmt(const Db& db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    db.fail("cannot prepare '" + sql.substr(0, 60) + "'");
  }
}

Stmt::~Stmt() {
  sqlite3_finalize(stmt_);
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  if (sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) !=
      SQLITE_OK) {
    db_.fail("bind");
  }
  return *this;
}
Stmt& Stmt::bind_blob(int i, const void* data, std::size_t n) {
  if (sqlite3_bind_blob64(stmt_, i, data, n, SQLITE_TRANSIENT) != SQLITE_OK) db_.fail("bind");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_.fail("bind");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail("query failed");
}

void Stmt::run() {
  while (step()) {
  }
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

Transaction::Transaction(Db& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

bool check_format_version(const Db& db, const std::string& key, int max_version,
                          const std::string& what) {
  Stmt v(db, "SELECT value FROM meta WHERE key = ?");
  v.bind(1, key);
  if (!v.step()) return false;
  const std::string version = v.text(0);
  const std::string file = db.file().string();
  SM_CHECK(!version.empty() && version.size() < 9 &&
               version.find_first_not_of("0123456789") == std::string::npos,
           ErrorKind::kCorrupt, file + ": the " + what + " '" + version + "' is not a number");
  SM_CHECK(std::stoi(version) <= max_version, ErrorKind::kUnsupported,
           file + " was written by a newer skillmatch (" + what + " " + version +
               ", this program reads up to " + std::to_string(max_version) + ")");
  return true;
}

}  // namespace skillmatch::sql
