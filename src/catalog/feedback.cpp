#include "skillmatch/catalog/feedback.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "catalog/sqlite.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/time.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback(
  id INTEGER PRIMARY KEY, created TEXT NOT NULL, text TEXT NOT NULL,
  accepted TEXT NOT NULL, rejected TEXT NOT NULL, added TEXT NOT NULL,
  request_id TEXT NOT NULL, models TEXT NOT NULL);
)sql";

nlohmann::json skills_json(const std::vector<Skill>& skills) {
  nlohmann::json a = nlohmann::json::array();
  for (const Skill& s : skills) {
    a.push_back({{"id", s.id},
                 {"taxonomy", s.taxonomy},
                 {"uri", s.record.uri},
                 {"label", s.record.label},
                 {"alt_labels", s.record.alt_labels},
                 {"description", s.record.description},
                 {"skill_type", s.record.skill_type}});
  }
  return a;
}

std::vector<Skill> skills_from(const std::string& text, const std::string& where) {
  std::vector<Skill> out;
  nlohmann::json a;
  try {
    a = nlohmann::json::parse(text);
    for (const auto& j : a) {
      Skill s;
      s.id = j.value("id", std::int64_t{0});
      s.taxonomy = j.value("taxonomy", "");
      s.record.uri = j.value("uri", "");
      s.record.label = j.value("label", "");
      s.record.alt_labels = j.value("alt_labels", std::vector<std::string>{});
      s.record.description = j.value("description", "");
      s.record.skill_type = j.value("skill_type", "");
      out.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kCorrupt, where + ": damaged skill list: " + e.what());
  }
  return out;
}

}  // namespace

struct FeedbackStore::Impl {
  sql::Db db;
  explicit Impl(const fs::path& file) : db(file, true) {}
};

FeedbackStore::FeedbackStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeedbackStore::~FeedbackStore() = default;
FeedbackStore::FeedbackStore(FeedbackStore&&) noexcept = default;
FeedbackStore& FeedbackStore::operator=(FeedbackStore&&) noexcept = default;

FeedbackStore FeedbackStore::open(const fs::path& file) {
  auto impl = std::make_unique<Impl>(file);
  sql::Db& db = impl->db;
  db.exec("PRAGMA synchronous = FULL");  // an acknowledged entry is on disk
  {
    sql::Stmt probe(db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'");
    probe.step();
    SM_CHECK(probe.int64(0) == 0 || sql::check_format_version(db, "feedback_format", kFormatVersion,
                                                              "feedback format"),
             ErrorKind::kCorrupt,
             file.string() + " is a SQLite database but not a skillmatch feedback store");
  }
  sql::Transaction tx(db);
  db.exec(kSchema);
  sql::Stmt v(db, "INSERT OR IGNORE INTO meta(key, value) VALUES ('feedback_format', ?)");
  v.bind(1, std::to_string(kFormatVersion)).run();
  tx.commit();
  return FeedbackStore(std::move(impl));
}

std::int64_t FeedbackStore::add(const FeedbackEntry& e) {
  SM_CHECK(!e.text.empty(), ErrorKind::kInvalidArgument, "feedback needs the course text");
  sql::Db& db = impl_->db;
  sql::Transaction tx(db);
  sql::Stmt q(db,
              "INSERT INTO feedback(created, text, accepted, rejected, added, request_id, models) "
              "VALUES (?,?,?,?,?,?,?)");
  q.bind(1, utc_now())
      .bind(2, e.text)
      .bind(3, skills_json(e.accepted).dump())
      .bind(4, skills_json(e.rejected).dump())
      .bind(5, skills_json(e.added).dump())
      .bind(6, e.request_id)
      .bind(7, e.models.empty() ? std::string("{}") : e.models)
      .run();
  const std::int64_t id = db.last_insert_rowid();
  tx.commit();
  return id;
}

void FeedbackStore::for_each(const std::function<void(const FeedbackEntry&)>& visit) const {
  sql::Stmt q(impl_->db,
              "SELECT id, created, text, accepted, rejected, added, request_id, models "
              "FROM feedback ORDER BY id");
  while (q.step()) {
    FeedbackEntry e;
    e.id = q.int64(0);
    e.created = q.text(1);
    e.text = q.text(2);
    const std::string where = impl_->db.file().string() + " entry " + std::to_string(e.id);
    e.accepted = skills_from(q.text(3), where);
    e.rejected = skills_from(q.text(4), where);
    e.added = skills_from(q.text(5), where);
    e.request_id = q.text(6);
    e.models = q.text(7);
    visit(e);
  }
}

std::size_t FeedbackStore::size() const {
  sql::Stmt q(impl_->db, "SELECT count(*) FROM feedback");
  q.step();
  return static_cast<std::size_t>(q.int64(0));
}

}  // namespace skillmatch
