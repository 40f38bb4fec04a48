// The dense index: the skill vectors of one embedding model (one row per skill), searched by
// inner product (= cosine: the model's Normalize module makes every vector unit length).
//
// It owns the skill-id <-> row map, the [rows, dimension] float32 matrix, the fingerprint of
// both, and optionally an approximate HNSW graph over the same rows. One batched search()
// serves both: the exact scan (the default: at ESCO's size, 14k x 768, it is as fast as HNSW at
// useful recall) and HNSW (for taxonomies of 100k skills and more) are two implementations of
// one interface, picked per call.
//
// Ownership: a DenseIndex owns its matrix and shares its HNSW graph (shared_ptr). Movable.
// Thread-safety: immutable once built and its HNSW graph attached; search() may be called from
// any number of threads at once (HNSW searches take a lock inside the graph, see ann_index.h).
// Errors: kInvalidArgument for mismatched shapes, a stale HNSW graph, a query of the wrong
// dimension, or approximate search without a graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "skillmatch/core/matrix.h"
#include "skillmatch/index/ann_index.h"
#include "skillmatch/index/vector_store.h"

namespace skillmatch {

struct DenseHit {
  std::size_t row = 0;  // row of the index (skill_id(row) is the skill)
  float score = 0;      // inner product
};

struct DenseSearchOptions {
  // Through the HNSW graph instead of the exact scan. A call whose `allowed` rows are at most a
  // tenth of the index is scanned exactly anyway: a graph search that must skip most nodes finds
  // too few (measured: 7 of 10 with a 0.5% filter), and scanning few rows is fast.
  bool approximate = false;
  int ef_search = 128;  // HNSW candidate list; >= k is raised to k
};

class DenseIndex {
 public:
  // Row i is skill_ids[i] with vectors.row(i). Throws kInvalidArgument when the counts differ or
  // a skill id repeats.
  DenseIndex(std::vector<std::int64_t> skill_ids, Matrix vectors);

  // The rows of `store` for `skill_ids`, in that order, leaving out the skills the store has no
  // vector for; `missing` (optional) receives those.
  static DenseIndex from_store(const VectorStore& store, const std::vector<std::int64_t>& skill_ids,
                               std::vector<std::int64_t>* missing = nullptr);

  std::size_t size() const noexcept { return ids_.size(); }
  std::size_t dimension() const noexcept { return vectors_.cols; }
  std::int64_t skill_id(std::size_t row) const { return ids_.at(row); }
  const std::vector<std::int64_t>& skill_ids() const noexcept { return ids_; }
  std::optional<std::size_t> row_of(std::int64_t skill_id) const;
  const Matrix& vectors() const noexcept { return vectors_; }

  // Identifies the rows: skill ids and vector bytes (what an HNSW file records).
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }

  // The HNSW graph over exactly these rows; kInvalidArgument when it was built for others.
  void attach_ann(std::shared_ptr<const AnnIndex> ann);
  bool has_ann() const noexcept { return ann_ != nullptr; }
  // Builds a graph over these rows (minutes for 100k skills).
  AnnIndex build_ann(const AnnOptions& options = {}) const;

  // For each row of `queries` ([n, dimension()]), the best `k` rows, best first, ties by row;
  // only rows with allowed[row] != 0 when `allowed` (size() entries) is given.
  std::vector<std::vector<DenseHit>> search(const Matrix& queries, std::size_t k,
                                            const std::vector<char>* allowed = nullptr,
                                            const DenseSearchOptions& options = {}) const;

 private:
  std::vector<std::int64_t> ids_;
  std::unordered_map<std::int64_t, std::size_t> row_of_;
  Matrix vectors_;
  std::uint64_t fingerprint_ = 0;
  std::shared_ptr<const AnnIndex> ann_;
};

// One query against rows of a matrix: the exact scan the dense index uses, exposed as the oracle
// that approximate search is tested and benchmarked against. Best `k` (score, row), ties by row.
std::vector<std::pair<float, std::size_t>> exact_top_k(const Matrix& vectors, const float* query,
                                                       std::size_t k,
                                                       const std::vector<char>* allowed = nullptr);

}  // namespace skillmatch
