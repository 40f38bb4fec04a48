// Editors' decisions on suggestions, the training data of the next fine-tune: for a course text,
// the skills they accepted, rejected and added by hand. Kept in a SQLite file of its own
// (feedback.db in the workspace folder), so that the workspace stays read-only while a service
// runs; one entry is one transaction with synchronous=FULL, so an acknowledged entry survives a
// kill -9 of the process (and a power loss).
//
// Ownership: a FeedbackStore is one connection. Thread-safety: one thread at a time (the Engine
// serialises calls). Errors: kIo/kCorrupt naming the file; kInvalidArgument for an entry
// without text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "skillmatch/catalog/workspace.h"

namespace skillmatch {

struct FeedbackEntry {
  std::int64_t id = 0;  // set by add()
  std::string created;  // UTC, ISO 8601, set by add()
  std::string text;     // the course text the suggestions were made for
  // The skills as they were when the decision was made (label, description, ... kept, so that
  // the entry stays usable when the taxonomy changes later).
  std::vector<Skill> accepted, rejected, added;
  std::string request_id;  // of the match request, if the client sent it
  std::string models;      // JSON: which models made the suggestions
};

class FeedbackStore {
 public:
  static constexpr int kFormatVersion = 1;

  // Opens (creating) the store file.
  static FeedbackStore open(const std::filesystem::path& file);
  ~FeedbackStore();
  FeedbackStore(FeedbackStore&&) noexcept;
  FeedbackStore& operator=(FeedbackStore&&) noexcept;

  // Stores `entry` durably in one transaction; returns its id.
  std::int64_t add(const FeedbackEntry& entry);
  // Every entry, oldest first.
  void for_each(const std::function<void(const FeedbackEntry&)>& visit) const;
  std::size_t size() const;

  struct Impl;

 private:
  explicit FeedbackStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skillmatch
