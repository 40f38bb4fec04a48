#include "core/zip.h"

#include <zlib.h>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

std::uint16_t u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

std::uint64_t u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(u32(p)) | (static_cast<std::uint64_t>(u32(p + 4)) << 32);
}

}  // namespace

ZipReader::ZipReader(const std::filesystem::path& archive) : file_(archive) {
  const std::string what = archive.string();
  const std::uint8_t* d = file_.data();
  const std::size_t n = file_.size();
  auto corrupt = [&](const std::string& why) {
    throw Error(ErrorKind::kCorrupt, what + ": not a valid ZIP archive (" + why + ")");
  };
  if (n < 22) corrupt("too short");
  // The end-of-central-directory record sits in the last 22 + 65,535 bytes.
  std::size_t eocd = std::string::npos;
  const std::size_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (std::size_t i = n - 22 + 1; i-- > lowest;) {
    if (u32(d + i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) corrupt("no end of central directory");
  const std::uint16_t count = u16(d + eocd + 10);
  const std::uint32_t cd_size = u32(d + eocd + 12), cd_offset = u32(d + eocd + 16);
  SM_CHECK(cd_offset != 0xffffffffu && count != 0xffff, ErrorKind::kUnsupported,
           what + ": ZIP64 archives are not supported");
  if (std::size_t{cd_offset} + cd_size > eocd) corrupt("central directory out of bounds");
  // A ZIP64 end-of-central-directory record, found by the locator just before the record above,
  // is where ZIP64 readers take the central directory from (libtorch's miniz, which then reads
  // wherever its 64-bit offset points: an offset near 2^64 wrapped past its bounds check).
  // torch.save writes one into every archive: it must say what the record above says.
  if (eocd >= 20 + 56 && u32(d + eocd - 20) == 0x07064b50) {
    const std::uint64_t z = u64(d + eocd - 20 + 8);
    if (z > eocd - 20 - 56) corrupt("ZIP64 end of central directory out of bounds");
    if (u32(d + z) == 0x06064b50 && (u64(d + z + 24) != count || u64(d + z + 32) != count ||
                                     u64(d + z + 40) != cd_size || u64(d + z + 48) != cd_offset)) {
      corrupt("the ZIP64 end of central directory disagrees with the end of central directory");
    }
  }
  std::size_t p = cd_offset;
  for (std::uint16_t i = 0; i < count; ++i) {
    if (p + 46 > eocd || u32(d + p) != 0x02014b50) corrupt("bad central directory entry");
    Entry e;
    e.flags = u16(d + p + 8);
    e.method = u16(d + p + 10);
    e.crc = u32(d + p + 16);
    e.compressed = u32(d + p + 20);
    e.size = u32(d + p + 24);
    const std::uint16_t name_len = u16(d + p + 28), extra = u16(d + p + 30),
                        comment = u16(d + p + 32);
    e.local_offset = u32(d + p + 42);
    if (p + 46 + name_len > eocd) corrupt("entry name out of bounds");
    e.name.assign(reinterpret_cast<const char*>(d + p + 46), name_len);
    entries_.push_back(std::move(e));
    p += 46 + std::size_t{name_len} + extra + comment;
  }
}

std::vector<std::string> ZipReader::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

bool ZipReader::contains(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return true;
  }
  return false;
}

const ZipReader::Entry& ZipReader::entry(const std::string& name) const {
  const Entry* e = nullptr;
  for (const auto& x : entries_) {
    if (x.name == name) e = &x;
  }
  SM_CHECK(e != nullptr, ErrorKind::kNotFound, file_.path().string() + " has no entry " + name);
  return *e;
}

std::uint32_t ZipReader::size(const std::string& name) const {
  return entry(name).size;
}

void ZipReader::extract(const std::string& name,
                        const std::function<void(const char*, std::size_t)>& sink) const {
  const Entry& e = entry(name);
  const std::string what = file_.path().string() + ": " + name;
  SM_CHECK(!(e.flags & 1), ErrorKind::kUnsupported, what + " is encrypted");
  const std::uint8_t* d = file_.data();
  const std::size_t n = file_.size();
  SM_CHECK(std::size_t{e.local_offset} + 30 <= n && u32(d + e.local_offset) == 0x04034b50,
           ErrorKind::kCorrupt, what + ": bad local header");
  const std::size_t start = std::size_t{e.local_offset} + 30 + u16(d + e.local_offset + 26) +
                            u16(d + e.local_offset + 28);
  SM_CHECK(start + e.compressed <= n, ErrorKind::kCorrupt, what + ": data out of bounds");
  // The content is handed on as it is produced, never ahead of it: the sizes in the header are
  // only checked, so a damaged or hostile header (4 GiB claimed by a few bytes) allocates nothing.
  uLong crc = crc32(0L, nullptr, 0);
  std::size_t total = 0;
  auto emit = [&](const unsigned char* p, std::size_t len) {
    crc = crc32(crc, p, static_cast<uInt>(len));
    total += len;
    sink(reinterpret_cast<const char*>(p), len);
  };
  if (e.method == 0) {
    SM_CHECK(e.compressed == e.size, ErrorKind::kCorrupt, what + ": size mismatch");
    emit(d + start, e.size);
  } else if (e.method == 8) {
    z_stream zs{};
    SM_CHECK(inflateInit2(&zs, -MAX_WBITS) == Z_OK, ErrorKind::kInternal, "inflateInit2 failed");
    zs.next_in = const_cast<Bytef*>(d + start);
    zs.avail_in = e.compressed;
    unsigned char chunk[1 << 16];
    int rc = Z_OK;
    bool too_long = false;
    try {
      while (rc == Z_OK) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        const std::size_t produced = sizeof chunk - zs.avail_out;
        if (produced > e.size - total) {
          too_long = true;
          break;
        }
        emit(chunk, produced);
      }
    } catch (...) {
      inflateEnd(&zs);
      throw;
    }
    inflateEnd(&zs);
    SM_CHECK(!too_long, ErrorKind::kCorrupt,
             what + ": the compressed data holds more than the " + std::to_string(e.size) +
                 " bytes its header states");
    SM_CHECK(rc == Z_STREAM_END && total == e.size, ErrorKind::kCorrupt,
             what + ": damaged compressed data");
  } else {
    throw Error(ErrorKind::kUnsupported,
                what + ": compression method " + std::to_string(e.method) + " is not supported");
  }
  SM_CHECK(crc == e.crc, ErrorKind::kCorrupt, what + ": CRC mismatch (damaged archive)");
}

std::string ZipReader::read(const std::string& name) const {
  std::string out;
  extract(name, [&](const char* p, std::size_t len) { out.append(p, len); });
  return out;
}

void ZipReader::check(const std::string& name) const {
  extract(name, [](const char*, std::size_t) {});
}

}  // namespace skillmatch
