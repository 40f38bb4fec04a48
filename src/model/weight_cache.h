// A model's weights as inference uses them (the word-embedding table in the compute type, the
// linear layers packed for this CPU's kernels), written once to a cache file and memory-mapped on
// later loads: a base model is ready in a fraction of a second, and of its 250,002-row
// word-embedding table only the pages of the rows that inputs use are ever read.
//
// File: "SMWCACHE" magic, a little-endian uint64 header length, a JSON header {"identity": ...,
// "blobs": {name: [offset, bytes]}}, then the blobs, each at a 4,096-byte boundary. The identity
// names the source weight file (path, size, modification time, a hash of 16 sampled 64 KiB
// pieces) and the variant (number type, CPU features, oneDNN version, format version); a cache
// whose identity differs, or that is truncated or malformed, is not used: a new file is written
// (its name is a hash of the identity) and older files of the same source and variant are
// removed. Mapped copy-on-write: the file itself never changes once written.
//
// Private to the model layer. Thread-safety: a WeightCache is immutable and may be read from any
// number of threads; tensors taken from it keep the mapping alive.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "skillmatch/core/io.h"

namespace skillmatch {

class WeightCache : public std::enable_shared_from_this<WeightCache> {
 public:
  // The identity of `source` (a weight file) for `variant`: what a cache file must record to be
  // used for it. Reads about 1 MiB of the file. Throws kIo if it cannot be read.
  static std::string identity(const std::filesystem::path& source, const std::string& variant);

  // Removes the other cache files beside `file` made for the same source and variant (older
  // versions of the weights). Best effort: errors are ignored.
  static void remove_older(const std::filesystem::path& file, const std::string& identity);

  // The cache file for that identity in `dir` (its name is a hash of the identity).
  static std::filesystem::path file_in(const std::filesystem::path& dir,
                                       const std::string& identity);

  // Maps `file` if it exists, is well formed and records `identity`; else nullptr, with the
  // reason in `*why` (absent, stale, corrupt). Never throws for a bad cache file.
  static std::shared_ptr<const WeightCache> open(const std::filesystem::path& file,
                                                 const std::string& identity, std::string* why);

  // The blob `name` as a read-only tensor of `shape` and `dtype` over the mapping (not copied).
  // Throws kCorrupt if absent or of another size. Never write to it: the pages are read-only.
  at::Tensor tensor(const std::string& name, const std::vector<std::int64_t>& shape,
                    at::ScalarType dtype) const;

 private:
  WeightCache() = default;
  std::unique_ptr<MappedFile> file_;
  std::map<std::string, std::pair<std::size_t, std::size_t>> blobs_;  // offset, bytes
};

// Collects the blobs of one model while it is converted, then writes the cache file atomically.
class WeightCacheWriter {
 public:
  // Keeps a reference to `t` (contiguous) until write().
  void add(const std::string& name, const at::Tensor& t);
  // Writes `file` (temporary file + rename; the directory is created). Throws kIo on failure.
  void write(const std::filesystem::path& file, const std::string& identity) const;

 private:
  std::vector<std::pair<std::string, at::Tensor>> blobs_;
};

}  // namespace skillmatch
