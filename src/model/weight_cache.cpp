#include "model/weight_cache.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <vector>

#include "core/hash.h"
#include "skillmatch/core/error.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

constexpr char kMagic[8] = {'S', 'M', 'W', 'C', 'A', 'C', 'H', 'E'};
constexpr std::size_t kAlign = 4096;

std::size_t align_up(std::size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

// The JSON header of a cache file's bytes; null with the reason in `*why` when they are not one.
nlohmann::json read_header(const std::uint8_t* data, std::size_t size, std::string* why) {
  std::uint64_t header_len = 0;
  if (size < 16 || std::memcmp(data, kMagic, 8) != 0) {
    *why = "corrupt (not a weight cache)";
    return nullptr;
  }
  std::memcpy(&header_len, data + 8, 8);
  if (header_len > size - 16) {
    *why = "corrupt (truncated header)";
    return nullptr;
  }
  try {
    nlohmann::json header =
        nlohmann::json::parse(data + 16, data + 16 + static_cast<std::size_t>(header_len));
    if (!header.is_object() || !header.contains("identity") || !header["identity"].is_string()) {
      *why = "corrupt (malformed header)";
      return nullptr;
    }
    return header;
  } catch (const std::exception&) {
    *why = "corrupt (malformed header)";
    return nullptr;
  }
}

}  // namespace

std::string WeightCache::identity(const fs::path& source, const std::string& variant) {
  struct stat st {};
  SM_CHECK(::stat(source.c_str(), &st) == 0, ErrorKind::kIo,
           source.string() + ": cannot stat the weight file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // 16 pieces of 64 KiB spread over the file (the first holds the header, the last the end of the
  // last tensor): a changed or replaced file of the same size and time still shows.
  std::ifstream in(source, std::ios::binary);
  SM_CHECK(in.good(), ErrorKind::kIo, source.string() + ": cannot read the weight file");
  std::uint64_t h = kFnvOffset;
  std::vector<char> buf(64 << 10);
  constexpr int kPieces = 16;
  for (int i = 0; i < kPieces; ++i) {
    const std::uint64_t at =
        size <= buf.size() ? 0
                           : (size - buf.size()) / (kPieces - 1) * static_cast<std::uint64_t>(i);
    in.seekg(static_cast<std::streamoff>(at));
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    fnv1a_mix(h, buf.data(), static_cast<std::size_t>(in.gcount()));
    in.clear();
  }
  const nlohmann::json id = {
      {"source", fs::absolute(source).lexically_normal().string()},
      {"size", size},
      {"mtime_ns", static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec},
      {"sampled_fnv1a", hex64(h)},
      {"variant", variant}};
  // A path that is not UTF-8 (Linux allows it) is written with replacement characters.
  return id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WeightCache::remove_older(const fs::path& file, const std::string& identity) {
  std::string source, variant;
  try {
    const auto id = nlohmann::json::parse(identity);
    source = id.at("source").get<std::string>();
    variant = id.at("variant").get<std::string>();
  } catch (const std::exception&) {
    return;
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(file.parent_path(), ec)) {
    if (e.path() == file || e.path().extension() != ".smw") continue;
    try {
      std::string why;
      const MappedFile mapped(e.path());
      const nlohmann::json header = read_header(mapped.data(), mapped.size(), &why);
      if (header.is_null()) continue;
      const auto other = nlohmann::json::parse(header["identity"].get<std::string>());
      if (other.at("source") == source && other.at("variant") == variant) fs::remove(e.path(), ec);
    } catch (const std::exception&) {
      // not ours to judge
    }
  }
}

fs::path WeightCache::file_in(const fs::path& dir, const std::string& identity) {
  return dir / (hex64(fnv1a64(identity)) + ".smw");
}

std::shared_ptr<const WeightCache> WeightCache::open(const fs::path& file,
                                                     const std::string& identity,
                                                     std::string* why) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    *why = "absent";
    return nullptr;
  }
  std::shared_ptr<WeightCache> cache(new WeightCache());
  try {
    // Copy-on-write: oneDNN zeroes the padding of a packed layout when it wraps the weights (a
    // write of zeros over zeros); such pages become private copies, the file never changes.
    cache->file_ = std::make_unique<MappedFile>(file, /*copy_on_write=*/true);
  } catch (const Error& e) {
    *why = std::string("unreadable: ") + e.what();
    return nullptr;
  }
  const std::size_t size = cache->file_->size();
  const nlohmann::json header = read_header(cache->file_->data(), size, why);
  if (header.is_null()) return nullptr;
  if (header["identity"].get<std::string>() != identity) {
    *why = "stale (made for another file, version or CPU)";
    return nullptr;
  }
  try {
    for (const auto& [name, range] : header.at("blobs").items()) {
      const auto offset = range.at(0).get<std::size_t>();
      const auto bytes = range.at(1).get<std::size_t>();
      if (offset % kAlign != 0 || offset > size || bytes > size - offset) {
        *why = "corrupt (blob " + name + " outside the file)";
        return nullptr;
      }
      cache->blobs_[name] = {offset, bytes};
    }
  } catch (const std::exception&) {
    *why = "corrupt (malformed header)";
    return nullptr;
  }
  return cache;
}

at::Tensor WeightCache::tensor(const std::string& name, const std::vector<std::int64_t>& shape,
                               at::ScalarType dtype) const {
  auto it = blobs_.find(name);
  std::int64_t numel = 1;
  for (std::int64_t d : shape) numel *= d;
  const std::size_t want = static_cast<std::size_t>(numel) * at::elementSize(dtype);
  SM_CHECK(it != blobs_.end() && it->second.second == want, ErrorKind::kCorrupt,
           file_->path().string() + ": weight cache has no blob " + name + " of " +
               std::to_string(want) + " bytes");
  // The deleter holds the cache (and so the mapping) for as long as the tensor lives.
  std::shared_ptr<const WeightCache> keep = shared_from_this();
  void* p = const_cast<std::uint8_t*>(file_->data() + it->second.first);
  return at::from_blob(
      p, shape, [keep](void*) {}, at::TensorOptions().dtype(dtype));
}

void WeightCacheWriter::add(const std::string& name, const at::Tensor& t) {
  SM_ASSERT(t.is_contiguous());
  blobs_.emplace_back(name, t);
}

void WeightCacheWriter::write(const fs::path& file, const std::string& identity) const {
  nlohmann::json blobs = nlohmann::json::object();
  // The header's length depends on the offsets it lists: lay the blobs out after a header budget
  // that grows until it fits.
  std::size_t budget = kAlign;
  std::string header;
  for (;;) {
    std::size_t offset = align_up(16 + budget);
    for (const auto& [name, t] : blobs_) {
      const std::size_t bytes = t.numel() * t.element_size();
      blobs[name] = {offset, bytes};
      offset = align_up(offset + bytes);
    }
    header = nlohmann::json{{"identity", identity}, {"blobs", blobs}}.dump();
    if (header.size() <= budget) break;
    budget = align_up(header.size());
  }
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  write_file_atomic(file, [&](std::FILE* f) {
    const std::uint64_t len = header.size();
    std::vector<char> zeros(kAlign, 0);
    std::size_t pos = 0;
    auto put = [&](const void* p, std::size_t n) {
      if (n && std::fwrite(p, 1, n, f) != n) {
        throw Error(ErrorKind::kIo, file.string() + ": cannot write the weight cache");
      }
      pos += n;
    };
    auto pad_to = [&](std::size_t target) {
      while (pos < target) put(zeros.data(), std::min(zeros.size(), target - pos));
    };
    put(kMagic, 8);
    put(&len, 8);
    put(header.data(), header.size());
    for (const auto& [name, t] : blobs_) {
      pad_to(blobs[name][0].get<std::size_t>());
      put(t.data_ptr(), t.numel() * t.element_size());
    }
  });
}

}  // namespace skillmatch
