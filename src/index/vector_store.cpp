#include "skillmatch/index/vector_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/json_util.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

constexpr char kMagic[8] = {'S', 'M', 'V', 'E', 'C', 'S', '0', '1'};

}  // namespace

std::string VectorIdentity::key() const {
  return hex64(fnv1a64(fingerprint + '\x1f' + passage_template));
}

std::string model_fingerprint(const fs::path& dir) {
  std::uint64_t h = kFnvOffset;
  const std::string config = read_file(dir / "config.json");
  fnv1a_mix(h, config.data(), config.size());
  fs::path weights = dir / "model.safetensors";
  if (!fs::exists(weights)) weights = dir / "pytorch_model.bin";
  const MappedFile f(weights);
  const std::size_t n = f.size();
  const std::uint64_t size = n;
  fnv1a_mix(h, &size, sizeof size);
  auto block = [&](std::size_t off, std::size_t len) {
    if (off >= n) return;
    fnv1a_mix(h, f.data() + off, std::min(len, n - off));
  };
  block(0, 1 << 20);
  block(n > (1u << 20) ? n - (1u << 20) : 0, 1 << 20);
  for (std::size_t i = 1; i < 64; ++i) block(n / 64 * i, 4096);
  return hex64(h);
}

namespace {

std::string header_json(const VectorIdentity& id) {
  return nlohmann::json{
      {"model", id.model}, {"fingerprint", id.fingerprint}, {"template", id.passage_template}}
      .dump();
}

void write_header(std::FILE* f, const fs::path& file, const VectorIdentity& id) {
  const std::string header = header_json(id);
  const auto dim = static_cast<std::uint32_t>(id.dimension);
  const auto len = static_cast<std::uint32_t>(header.size());
  SM_CHECK(std::fwrite(kMagic, 1, 8, f) == 8 && std::fwrite(&dim, 4, 1, f) == 1 &&
               std::fwrite(&len, 4, 1, f) == 1 &&
               std::fwrite(header.data(), 1, header.size(), f) == header.size(),
           ErrorKind::kIo, "cannot write " + file.string());
}

void create_file(const fs::path& file, const VectorIdentity& id) {
  write_file_atomic(file, [&](std::FILE* f) { write_header(f, file, id); });
}

// An exclusive lock on `file` + ".lock" (created when missing), held while the object lives
// (closing the descriptor releases it). The lock is on a file of its own, never renamed or
// replaced, so that every writer locks the same inode whatever happens to the vector file.
std::shared_ptr<int> lock_file(const fs::path& file) {
  fs::path lock = file;
  lock += ".lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  SM_CHECK(fd >= 0, ErrorKind::kIo, "cannot open " + lock.string() + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    throw Error(ErrorKind::kIo, "cannot lock " + lock.string() + ": " + std::strerror(err));
  }
  return std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
}

}  // namespace

VectorStore VectorStore::read(const fs::path& file, const VectorIdentity& id) {
  SM_CHECK(id.dimension > 0, ErrorKind::kInvalidArgument, "vector dimension must be positive");
  SM_CHECK(fs::exists(file), ErrorKind::kNotFound,
           "vector file " + file.string() + " does not exist");
  VectorStore vs;
  vs.file_ = file;
  vs.identity_ = id;
  const MappedFile m(file);
  const std::string what = "vector file " + file.string();
  SM_CHECK(m.size() >= 16 && std::memcmp(m.data(), kMagic, 8) == 0, ErrorKind::kCorrupt,
           what + " is not a skillmatch vector file");
  std::uint32_t dim = 0, len = 0;
  std::memcpy(&dim, m.data() + 8, 4);
  std::memcpy(&len, m.data() + 12, 4);
  SM_CHECK(16 + std::size_t{len} <= m.size(), ErrorKind::kCorrupt, what + ": truncated header");
  nlohmann::json h;
  try {
    h = parse_json(std::string_view(reinterpret_cast<const char*>(m.data() + 16), len));
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kCorrupt, what + ": header is not valid JSON");
  }
  SM_CHECK(h.is_object(), ErrorKind::kCorrupt, what + ": header is not a JSON object");
  const std::string fp = h.value("fingerprint", ""), tmpl = h.value("template", "");
  SM_CHECK(fp == id.fingerprint && tmpl == id.passage_template && dim == id.dimension,
           ErrorKind::kInvalidArgument,
           what + " holds vectors of model " + h.value("model", "?") + " (fingerprint " + fp +
               ", template \"" + tmpl + "\"), not of " + id.model + " (fingerprint " +
               id.fingerprint + ", template \"" + id.passage_template + "\")");

  const std::size_t record = 16 + 4 * std::size_t{dim};
  const std::size_t body = m.size() - 16 - len;
  const std::size_t whole = body / record;
  const std::uint8_t* p = m.data() + 16 + len;
  for (std::size_t r = 0; r < whole; ++r, p += record) {
    std::int64_t sid;
    std::uint64_t hash;
    std::memcpy(&sid, p, 8);
    std::memcpy(&hash, p + 8, 8);
    auto [it, fresh] = vs.slot_.emplace(sid, vs.hashes_.size());
    if (fresh) {
      vs.hashes_.push_back(hash);
      vs.data_.resize(vs.data_.size() + dim);
    } else {
      vs.hashes_[it->second] = hash;
    }
    std::memcpy(vs.data_.data() + it->second * dim, p + 16, 4 * std::size_t{dim});
    vs.by_hash_[hash] = it->second;
  }
  // A record still being written (or cut off by a killed writer) is not read; only a writer
  // holding the lock drops it.
  vs.file_size_ = 16 + len + whole * record;
  return vs;
}

VectorStore VectorStore::open_for_append(const fs::path& file, const VectorIdentity& id) {
  SM_CHECK(id.dimension > 0, ErrorKind::kInvalidArgument, "vector dimension must be positive");
  // Everything below (creating, setting aside, cutting and appending by path) is done holding
  // the lock, so no other writer can rename or replace the file meanwhile.
  std::shared_ptr<int> lock = lock_file(file);
  if (!fs::exists(file)) create_file(file, id);
  fs::path set_aside;
  VectorStore vs;
  try {
    vs = read(file, id);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kCorrupt) throw;
    // A damaged file cannot be appended to: keep it for inspection and start anew.
    set_aside = file;
    set_aside += ".damaged-" + std::to_string(std::time(nullptr));
    std::error_code ec;
    fs::rename(file, set_aside, ec);
    SM_CHECK(!ec, ErrorKind::kIo,
             e.what() + std::string("; cannot move it aside: ") + ec.message());
    create_file(file, id);
    vs = read(file, id);
  }
  vs.lock_ = std::move(lock);
  vs.set_aside_ = std::move(set_aside);
  if (vs.file_size_ != fs::file_size(file)) {
    // A record cut off by a killed writer: drop it so that appends continue on a boundary.
    SM_CHECK(
        ::truncate(file.c_str(), static_cast<off_t>(vs.file_size_)) == 0, ErrorKind::kIo,
        "vector file " + file.string() + ": cannot drop a partial record: " + std::strerror(errno));
  }
  return vs;
}

void VectorStore::write(const fs::path& file, const VectorIdentity& id,
                        const std::vector<std::int64_t>& ids,
                        const std::vector<std::uint64_t>& hashes, const Matrix& vectors) {
  SM_CHECK(id.dimension > 0, ErrorKind::kInvalidArgument, "vector dimension must be positive");
  SM_ASSERT(ids.size() == hashes.size() && ids.size() == vectors.rows &&
            vectors.cols == id.dimension);
  write_file_atomic(file, [&](std::FILE* f) {
    write_header(f, file, id);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      SM_CHECK(std::fwrite(&ids[i], 8, 1, f) == 1 && std::fwrite(&hashes[i], 8, 1, f) == 1 &&
                   std::fwrite(vectors.row(i), 4, id.dimension, f) == id.dimension,
               ErrorKind::kIo, "cannot write " + file.string());
    }
  });
}

const float* VectorStore::find_passage(std::uint64_t passage_hash) const {
  // A slot whose skill was re-embedded since holds another passage's vector now: only a slot
  // whose current hash is the one asked for answers.
  auto it = by_hash_.find(passage_hash);
  if (it == by_hash_.end() || hashes_[it->second] != passage_hash) return nullptr;
  return data_.data() + it->second * identity_.dimension;
}

std::optional<std::uint64_t> VectorStore::hash(std::int64_t skill_id) const {
  auto it = slot_.find(skill_id);
  if (it == slot_.end()) return std::nullopt;
  return hashes_[it->second];
}

const float* VectorStore::vector(std::int64_t skill_id) const {
  auto it = slot_.find(skill_id);
  return it == slot_.end() ? nullptr : data_.data() + it->second * identity_.dimension;
}

void VectorStore::append(const std::vector<std::int64_t>& ids,
                         const std::vector<std::uint64_t>& hashes, const Matrix& vectors) {
  SM_CHECK(lock_ != nullptr, ErrorKind::kInvalidArgument,
           "vector file " + file_.string() + " was opened for reading only");
  const std::size_t dim = identity_.dimension;
  SM_ASSERT(ids.size() == hashes.size() && ids.size() == vectors.rows && vectors.cols == dim);
  std::string buf;
  buf.reserve(ids.size() * (16 + 4 * dim));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    buf.append(reinterpret_cast<const char*>(&ids[i]), 8);
    buf.append(reinterpret_cast<const char*>(&hashes[i]), 8);
    buf.append(reinterpret_cast<const char*>(vectors.row(i)), 4 * dim);
  }
  const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  SM_CHECK(fd >= 0, ErrorKind::kIo, "cannot open " + file_.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t w = ::write(fd, buf.data() + done, buf.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = errno;
      ::close(fd);
      // Leave no partial record behind: cut back to the last whole one.
      (void)::truncate(file_.c_str(), static_cast<off_t>(file_size_));
      throw Error(ErrorKind::kIo, "cannot write " + file_.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(w);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  SM_CHECK(synced, ErrorKind::kIo, "cannot sync " + file_.string());
  file_size_ += buf.size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto [it, fresh] = slot_.emplace(ids[i], hashes_.size());
    if (fresh) {
      hashes_.push_back(hashes[i]);
      data_.resize(data_.size() + dim);
    } else {
      hashes_[it->second] = hashes[i];
    }
    std::copy_n(vectors.row(i), dim, data_.data() + it->second * dim);
    by_hash_[hashes[i]] = it->second;
  }
}

}  // namespace skillmatch
