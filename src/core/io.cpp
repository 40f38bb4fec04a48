#include "skillmatch/core/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "skillmatch/core/error.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

[[noreturn]] void throw_os_error(const std::string& action, const fs::path& path, int err) {
  ErrorKind kind = err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo;
  throw Error(kind, "cannot " + action + " " + path.string() + ": " + std::strerror(err));
}

}  // namespace

void require_file(const fs::path& path, const std::string& what) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  SM_CHECK(fs::exists(status), ErrorKind::kNotFound,
           what + " " + path.string() + " does not exist");
  SM_CHECK(fs::is_regular_file(status), ErrorKind::kInvalidArgument,
           what + " " + path.string() + " is not a regular file");
}

void require_directory(const fs::path& path, const std::string& what) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  SM_CHECK(fs::exists(status), ErrorKind::kNotFound,
           what + " " + path.string() + " does not exist");
  SM_CHECK(fs::is_directory(status), ErrorKind::kInvalidArgument,
           what + " " + path.string() + " is not a directory");
}

std::string read_file(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw_os_error("open", path, errno);
  std::string out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err) throw_os_error("read", path, err);
  return out;
}

MappedFile::MappedFile(const fs::path& path, bool copy_on_write) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_os_error("open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw_os_error("stat", path, err);
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, copy_on_write ? PROT_READ | PROT_WRITE : PROT_READ,
                     MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw_os_error("map", path, err);
    }
    data_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void write_file_atomic(const fs::path& path, const std::function<void(std::FILE*)>& write) {
  std::random_device rd;
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw_os_error("create", tmp, errno);
  try {
    write(f);
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) throw_os_error("write", tmp, errno);
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw_os_error("write", tmp, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw_os_error("rename into place", path, err);
  }
}

}  // namespace skillmatch
