#include "skillmatch/index/ann_index.h"

#include <faiss/IndexHNSW.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>

#include <cstdio>
#include <cstring>
#include <mutex>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

constexpr char kMagic[8] = {'S', 'M', 'A', 'N', 'N', '0', '0', '1'};

// Rows a filter lets through, for FAISS.
struct AllowedRows : faiss::IDSelector {
  const std::vector<char>& allowed;
  explicit AllowedRows(const std::vector<char>& a) : allowed(a) {}
  bool is_member(idx_t id) const override {
    return id >= 0 && static_cast<std::size_t>(id) < allowed.size() && allowed[id] != 0;
  }
};

}  // namespace

struct AnnIndex::Impl {
  std::unique_ptr<faiss::IndexHNSWFlat> index;
  std::uint64_t fingerprint = 0;
  // FAISS 1.7.3 honours SearchParametersHNSW::efSearch only in part of the search (measured:
  // recall@30 0.42 with efSearch=512 passed as a parameter, 0.99 set on the index), so each
  // search sets it on the index, under this lock.
  std::mutex search_lock;
};

AnnIndex::AnnIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AnnIndex::~AnnIndex() = default;
AnnIndex::AnnIndex(AnnIndex&&) noexcept = default;
AnnIndex& AnnIndex::operator=(AnnIndex&&) noexcept = default;

AnnIndex AnnIndex::build(const Matrix& vectors, std::uint64_t fingerprint,
                         const AnnOptions& options) {
  SM_CHECK(vectors.rows > 0 && vectors.cols > 0, ErrorKind::kInvalidArgument,
           "an approximate index needs at least one vector");
  SM_CHECK(options.m >= 4 && options.ef_construction >= options.m, ErrorKind::kInvalidArgument,
           "HNSW needs M >= 4 and efConstruction >= M");
  auto impl = std::make_unique<Impl>();
  impl->index = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(vectors.cols), options.m,
                                                       faiss::METRIC_INNER_PRODUCT);
  impl->index->hnsw.efConstruction = options.ef_construction;
  impl->index->add(static_cast<faiss::Index::idx_t>(vectors.rows), vectors.data.data());
  impl->fingerprint = fingerprint;
  return AnnIndex(std::move(impl));
}

void AnnIndex::save(const fs::path& path) const {
  write_file_atomic(path, [&](std::FILE* f) {
    if (std::fwrite(kMagic, 1, sizeof kMagic, f) != sizeof kMagic ||
        std::fwrite(&impl_->fingerprint, sizeof impl_->fingerprint, 1, f) != 1) {
      throw Error(ErrorKind::kIo, "cannot write " + path.string());
    }
    try {
      faiss::write_index(impl_->index.get(), f);
    } catch (const faiss::FaissException& e) {
      throw Error(ErrorKind::kIo, "cannot write " + path.string() + ": " + e.what());
    }
  });
}

AnnIndex AnnIndex::load(const fs::path& path) {
  require_file(path, "approximate index");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  SM_CHECK(f != nullptr, ErrorKind::kIo, "cannot open " + path.string());
  char magic[sizeof kMagic];
  auto impl = std::make_unique<Impl>();
  SM_CHECK(std::fread(magic, 1, sizeof magic, f.get()) == sizeof magic &&
               std::memcmp(magic, kMagic, sizeof magic) == 0 &&
               std::fread(&impl->fingerprint, sizeof impl->fingerprint, 1, f.get()) == 1,
           ErrorKind::kCorrupt, path.string() + " is not a skillmatch approximate index");
  try {
    std::unique_ptr<faiss::Index> index(faiss::read_index(f.get()));
    auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(index.get());
    SM_CHECK(hnsw != nullptr, ErrorKind::kCorrupt,
             path.string() + " holds another kind of FAISS index than HNSW");
    index.release();
    impl->index.reset(hnsw);
  } catch (const faiss::FaissException& e) {
    throw Error(ErrorKind::kCorrupt, path.string() + " is damaged: " + e.what());
  }
  return AnnIndex(std::move(impl));
}

std::uint64_t AnnIndex::fingerprint() const noexcept {
  return impl_->fingerprint;
}
std::size_t AnnIndex::size() const noexcept {
  return static_cast<std::size_t>(impl_->index->ntotal);
}
std::size_t AnnIndex::dimension() const noexcept {
  return static_cast<std::size_t>(impl_->index->d);
}

std::vector<std::pair<float, std::size_t>> AnnIndex::search(const float* query, std::size_t k,
                                                            const std::vector<char>* allowed,
                                                            int ef_search) const {
  k = std::min(k, size());
  if (k == 0) return {};
  faiss::SearchParametersHNSW params;
  params.efSearch = std::max(ef_search, static_cast<int>(k));
  std::unique_ptr<AllowedRows> selector;
  if (allowed) {
    selector = std::make_unique<AllowedRows>(*allowed);
    params.sel = selector.get();
  }
  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> ids(k);
  const std::lock_guard<std::mutex> lock(impl_->search_lock);
  impl_->index->hnsw.efSearch = params.efSearch;
  impl_->index->search(1, query, static_cast<faiss::Index::idx_t>(k), scores.data(), ids.data(),
                       &params);
  std::vector<std::pair<float, std::size_t>> out;
  for (std::size_t i = 0; i < k; ++i) {
    if (ids[i] < 0) break;  // fewer than k reachable
    out.emplace_back(scores[i], static_cast<std::size_t>(ids[i]));
  }
  return out;
}

}  // namespace skillmatch
