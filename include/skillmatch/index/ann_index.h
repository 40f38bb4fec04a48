// Approximate nearest-neighbour search over skill vectors, for taxonomies too large for the
// exact scan: a FAISS HNSW graph on inner product (= cosine: skill and query vectors are
// normalised by the model's Normalize module).
//
// Row i of the index is row i of the Matcher's vector matrix; the file records a fingerprint
// of those rows (skill ids and vector bytes) so that a Matcher refuses an index built for other
// vectors. Ownership: an AnnIndex owns its graph; it is movable, not copyable.
// Thread-safety: search() may be called from several threads; searches run one at a time.
// Errors: kNotFound (no file), kCorrupt (not an index file, damaged), kIo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "skillmatch/core/matrix.h"

namespace skillmatch {

struct AnnOptions {
  int m = 16;                 // graph degree (HNSW M)
  int ef_construction = 100;  // candidate list while building
};

class AnnIndex {
 public:
  // Builds over every row of `vectors` (row i gets id i).
  static AnnIndex build(const Matrix& vectors, std::uint64_t fingerprint,
                        const AnnOptions& options = {});
  static AnnIndex load(const std::filesystem::path& path);
  // Written to a temporary file and renamed into place.
  void save(const std::filesystem::path& path) const;

  ~AnnIndex();
  AnnIndex(AnnIndex&&) noexcept;
  AnnIndex& operator=(AnnIndex&&) noexcept;

  std::uint64_t fingerprint() const noexcept;
  std::size_t size() const noexcept;
  std::size_t dimension() const noexcept;

  // The (inner product, row) of the best `k` rows for `query` (dimension() floats), best first;
  // only rows with allowed[row] != 0 when `allowed` is given. `ef_search` >= k trades speed for
  // recall.
  std::vector<std::pair<float, std::size_t>> search(const float* query, std::size_t k,
                                                    const std::vector<char>* allowed,
                                                    int ef_search) const;

  struct Impl;

 private:
  explicit AnnIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skillmatch
