#include "skillmatch/index/dense_index.h"

#include <algorithm>

#include "core/hash.h"
#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

// Dot product with eight independent partial sums, so that the compiler vectorises it without
// reassociating floating-point additions itself.
float dot(const float* a, const float* b, std::size_t n) {
  float acc[8] = {};
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[k + l] * b[k + l];
  }
  float sum = 0;
  for (; k < n; ++k) sum += a[k] * b[k];
  for (float x : acc) sum += x;
  return sum;
}

bool better(const std::pair<float, std::size_t>& a, const std::pair<float, std::size_t>& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

void keep_best(std::vector<std::pair<float, std::size_t>>& scored, std::size_t k) {
  const std::size_t n = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end(),
                    better);
  scored.resize(n);
}

// The two implementations of dense search.
class DenseSearcher {
 public:
  virtual ~DenseSearcher() = default;
  virtual std::vector<std::vector<DenseHit>> search(const Matrix& queries, std::size_t k,
                                                    const std::vector<char>* allowed) const = 0;
};

// Every allowed row, scored. Queries go in groups over blocks of rows, so that a block of the
// matrix is read from memory once for the whole group.
class ExactScan final : public DenseSearcher {
 public:
  explicit ExactScan(const Matrix& vectors) : v_(vectors) {}

  std::vector<std::vector<DenseHit>> search(const Matrix& queries, std::size_t k,
                                            const std::vector<char>* allowed) const override {
    constexpr std::size_t kGroup = 16, kBlock = 256;
    std::vector<std::vector<DenseHit>> out(queries.rows);
    std::vector<std::vector<std::pair<float, std::size_t>>> scored(std::min(kGroup, queries.rows));
    for (std::size_t q0 = 0; q0 < queries.rows; q0 += kGroup) {
      const std::size_t nq = std::min(kGroup, queries.rows - q0);
      for (std::size_t i = 0; i < nq; ++i) scored[i].clear();
      for (std::size_t r0 = 0; r0 < v_.rows; r0 += kBlock) {
        const std::size_t r1 = std::min(v_.rows, r0 + kBlock);
        for (std::size_t i = 0; i < nq; ++i) {
          const float* q = queries.row(q0 + i);
          for (std::size_t r = r0; r < r1; ++r) {
            if (allowed && !(*allowed)[r]) continue;
            scored[i].push_back({dot(v_.row(r), q, v_.cols), r});
          }
        }
      }
      for (std::size_t i = 0; i < nq; ++i) {
        keep_best(scored[i], k);
        for (const auto& [score, row] : scored[i]) out[q0 + i].push_back({row, score});
      }
    }
    return out;
  }

 private:
  const Matrix& v_;
};

class HnswSearch final : public DenseSearcher {
 public:
  HnswSearch(const AnnIndex& ann, int ef_search) : ann_(ann), ef_search_(ef_search) {}

  std::vector<std::vector<DenseHit>> search(const Matrix& queries, std::size_t k,
                                            const std::vector<char>* allowed) const override {
    std::vector<std::vector<DenseHit>> out(queries.rows);
    for (std::size_t i = 0; i < queries.rows; ++i) {
      for (const auto& [score, row] : ann_.search(queries.row(i), k, allowed, ef_search_)) {
        out[i].push_back({row, score});
      }
    }
    return out;
  }

 private:
  const AnnIndex& ann_;
  int ef_search_;
};

std::uint64_t rows_fingerprint(const std::vector<std::int64_t>& ids, const Matrix& vectors) {
  std::uint64_t h = kFnvOffset;
  for (const std::int64_t id : ids) fnv1a_mix(h, &id, sizeof id);
  fnv1a_mix(h, vectors.data.data(), vectors.data.size() * sizeof(float));
  return h;
}

}  // namespace

DenseIndex::DenseIndex(std::vector<std::int64_t> skill_ids, Matrix vectors)
    : ids_(std::move(skill_ids)), vectors_(std::move(vectors)) {
  SM_CHECK(ids_.size() == vectors_.rows, ErrorKind::kInvalidArgument,
           "a dense index needs one vector per skill (" + std::to_string(ids_.size()) +
               " skills, " + std::to_string(vectors_.rows) + " vectors)");
  row_of_.reserve(ids_.size());
  for (std::size_t r = 0; r < ids_.size(); ++r) {
    SM_CHECK(row_of_.emplace(ids_[r], r).second, ErrorKind::kInvalidArgument,
             "skill id " + std::to_string(ids_[r]) + " appears twice in a dense index");
  }
  fingerprint_ = rows_fingerprint(ids_, vectors_);
}

DenseIndex DenseIndex::from_store(const VectorStore& store,
                                  const std::vector<std::int64_t>& skill_ids,
                                  std::vector<std::int64_t>* missing) {
  std::vector<std::int64_t> ids;
  ids.reserve(skill_ids.size());
  for (const std::int64_t id : skill_ids) {
    if (store.vector(id)) {
      ids.push_back(id);
    } else if (missing) {
      missing->push_back(id);
    }
  }
  Matrix m(ids.size(), store.dimension());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    std::copy_n(store.vector(ids[r]), m.cols, m.row(r));
  }
  return DenseIndex(std::move(ids), std::move(m));
}

std::optional<std::size_t> DenseIndex::row_of(std::int64_t skill_id) const {
  auto it = row_of_.find(skill_id);
  if (it == row_of_.end()) return std::nullopt;
  return it->second;
}

void DenseIndex::attach_ann(std::shared_ptr<const AnnIndex> ann) {
  SM_CHECK(ann == nullptr || (ann->fingerprint() == fingerprint_ && ann->size() == size() &&
                              ann->dimension() == dimension()),
           ErrorKind::kInvalidArgument,
           "the approximate index was built for other skills or vectors; run `skillmatch index "
           "--ann` again");
  ann_ = std::move(ann);
}

AnnIndex DenseIndex::build_ann(const AnnOptions& options) const {
  return AnnIndex::build(vectors_, fingerprint_, options);
}

std::vector<std::vector<DenseHit>> DenseIndex::search(const Matrix& queries, std::size_t k,
                                                      const std::vector<char>* allowed,
                                                      const DenseSearchOptions& options) const {
  SM_CHECK(queries.rows == 0 || queries.cols == dimension(), ErrorKind::kInvalidArgument,
           "queries have dimension " + std::to_string(queries.cols) + ", the index " +
               std::to_string(dimension()));
  SM_CHECK(allowed == nullptr || allowed->size() == size(), ErrorKind::kInvalidArgument,
           "the allowed rows do not match the index");
  bool approximate = options.approximate;
  if (approximate) {
    SM_CHECK(ann_ != nullptr, ErrorKind::kInvalidArgument,
             "approximate search needs an index: run `skillmatch index --ann` first");
    if (allowed) {
      const auto n = static_cast<std::size_t>(std::count(allowed->begin(), allowed->end(), 1));
      approximate = n * 10 > size();
      if (n == size()) allowed = nullptr;  // the graph search without a selector
    }
  }
  if (approximate) {
    return HnswSearch(*ann_, std::max<int>(options.ef_search, static_cast<int>(k)))
        .search(queries, k, allowed);
  }
  return ExactScan(vectors_).search(queries, k, allowed);
}

std::vector<std::pair<float, std::size_t>> exact_top_k(const Matrix& vectors, const float* query,
                                                       std::size_t k,
                                                       const std::vector<char>* allowed) {
  std::vector<std::pair<float, std::size_t>> scored;
  scored.reserve(vectors.rows);
  for (std::size_t r = 0; r < vectors.rows; ++r) {
    if (allowed && !(*allowed)[r]) continue;
    scored.push_back({dot(vectors.row(r), query, vectors.cols), r});
  }
  keep_best(scored, k);
  return scored;
}

}  // namespace skillmatch
