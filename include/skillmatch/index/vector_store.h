// Skill vectors of one embedding model and passage template, kept beside a workspace's
// database in one append-only file.
//
// Layout: "SMVECS01", u32 dimension, u32 length N, N bytes of JSON (model, fingerprint,
// template), then records of [i64 skill id, u64 hash of the embedded passage, f32 x dimension],
// little-endian. Appending is the only write: each append is flushed and fsync'ed, so a process
// killed while indexing leaves whole records plus at most one partial record, which the next
// writer drops (the index then resumes where it stopped). The last record of a skill wins.
//
// One writer at a time: open_for_append() takes an exclusive lock (flock, across processes) on a
// sidecar file "<file>.lock" for the life of the object, before it creates, sets aside or cuts
// the vector file. Readers take no lock and read whole records only, so a
// service reading while `skillmatch index` appends sees a consistent prefix.
// Thread-safety: not thread-safe for writes; const methods may be called concurrently.
// Errors: kNotFound (read() of a missing file), kCorrupt for a bad header; kInvalidArgument when
// the file belongs to another model or template (naming both); kIo.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "skillmatch/core/matrix.h"

namespace skillmatch {

struct VectorIdentity {
  std::string model;        // what the user named (folder or Hub id), for messages
  std::string fingerprint;  // model_fingerprint() of the folder
  std::string passage_template;
  std::size_t dimension = 0;

  // File-name key: a hash of fingerprint and template.
  std::string key() const;
};

// A fingerprint of a model folder's identity: config.json, the safetensors header and samples
// of the weight bytes (the first and last MiB and 64 evenly spaced 4 KiB blocks), hashed. Cheap
// for a 1 GB file and changes whenever the weights do in practice.
std::string model_fingerprint(const std::filesystem::path& model_dir);

class VectorStore {
 public:
  // Reads the whole records of `file`, checking that it was made for `identity`.
  static VectorStore read(const std::filesystem::path& file, const VectorIdentity& identity);
  // Opens `file` for appending (creating it), waiting for the lock of another writer. A partial
  // last record is dropped; a file whose header is damaged is moved aside (set_aside() says
  // where) and started anew.
  static VectorStore open_for_append(const std::filesystem::path& file,
                                     const VectorIdentity& identity);
  // Writes a whole vector file at once (a temporary file renamed into place): one record per
  // row of `vectors`. What `index --export-vectors` writes beside a model (there the ids are
  // row numbers and the passage hashes are the key, see find_passage()).
  static void write(const std::filesystem::path& file, const VectorIdentity& identity,
                    const std::vector<std::int64_t>& ids, const std::vector<std::uint64_t>& hashes,
                    const Matrix& vectors);

  // The passage hash stored for a skill, if any.
  std::optional<std::uint64_t> hash(std::int64_t skill_id) const;
  // The vector of a skill (dimension() floats), nullptr if none.
  const float* vector(std::int64_t skill_id) const;
  // The vector of any record whose passage hash is `passage_hash` (the same passage embeds to
  // the same vector whichever skill or workspace it belongs to), nullptr if none.
  const float* find_passage(std::uint64_t passage_hash) const;
  std::size_t size() const noexcept { return slot_.size(); }
  std::size_t dimension() const noexcept { return identity_.dimension; }
  const VectorIdentity& identity() const noexcept { return identity_; }
  const std::filesystem::path& file() const noexcept { return file_; }

  // Where open_for_append() moved a damaged file; empty if it did not.
  const std::filesystem::path& set_aside() const noexcept { return set_aside_; }
  // Bytes of whole records read or written (the file's size as this object knows it).
  std::uint64_t file_size() const noexcept { return file_size_; }

  // Appends one record per row of `vectors` and makes them durable (open_for_append() only).
  void append(const std::vector<std::int64_t>& skill_ids, const std::vector<std::uint64_t>& hashes,
              const Matrix& vectors);

 private:
  std::filesystem::path file_;
  VectorIdentity identity_;
  std::unordered_map<std::int64_t, std::size_t> slot_;  // skill id -> row in data_
  std::vector<std::uint64_t> hashes_;
  std::vector<float> data_;
  std::uint64_t file_size_ = 0;
  std::shared_ptr<int> lock_;  // the locked descriptor of a writer
  std::filesystem::path set_aside_;
  std::unordered_map<std::uint64_t, std::size_t> by_hash_;  // passage hash -> row in data_
};

}  // namespace skillmatch
