#include "skillmatch/hub/hub_download.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "hub/hub_answers.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/hub/model_hub.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

struct Endpoint {
  std::string origin;  // scheme://host[:port]
  std::string prefix;  // path prefix, without trailing slash
};

Endpoint parse_endpoint(const std::string& url) {
  const auto scheme = url.find("://");
  SM_CHECK(scheme != std::string::npos, ErrorKind::kInvalidArgument,
           "endpoint " + url + " is not a URL (expected http(s)://host)");
  const std::string s = url.substr(0, scheme);
  SM_CHECK(s == "http" || s == "https", ErrorKind::kInvalidArgument,
           "endpoint " + url + ": the scheme '" + s + "' is not supported (http or https)");
  SM_CHECK(url.size() > scheme + 3 && url[scheme + 3] != '/', ErrorKind::kInvalidArgument,
           "endpoint " + url + " has no host");
  const auto path = url.find('/', scheme + 3);
  Endpoint e{url.substr(0, path), path == std::string::npos ? "" : url.substr(path)};
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  return e;
}

// What went wrong with a request, in words (httplib names errors "Read", "Connection", ...).
std::string describe(httplib::Error e, int timeout) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect (is the endpoint right, is the network up?)";
    case httplib::Error::Read:
      return "the server sent nothing for " + std::to_string(timeout) +
             " s or closed the connection (read timeout: --timeout)";
    case httplib::Error::Write:
      return "the connection broke while sending";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
      return "the TLS connection failed (certificate?)";
    case httplib::Error::ExceedRedirectCount:
      return "too many redirects";
    case httplib::Error::Canceled:
      return "the download was cancelled";
    default:
      return "request failed (" + httplib::to_string(e) + ")";
  }
}

// A branch, tag or commit name that can name a file under refs/ safely.
void check_revision(const std::string& r) {
  bool ok = !r.empty() && r.size() <= 255 && r.front() != '/' && r.back() != '/' &&
            r.find("..") == std::string::npos && r.find("//") == std::string::npos;
  for (char c : r) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
                c == '/');
  }
  SM_CHECK(ok, ErrorKind::kInvalidArgument,
           "'" + r + "' is not a revision name (a branch, tag or commit)");
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// Writes `content` to `path` atomically.
void write_text(const fs::path& path, const std::string& content) {
  write_file_atomic(path, [&](std::FILE* f) { std::fputs(content.c_str(), f); });
}

// Points `link` at `target` (relative), replacing what was there atomically.
void set_symlink(const fs::path& link, const fs::path& target) {
  fs::create_directories(link.parent_path());
  const fs::path tmp = link.string() + ".tmp-link-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp);
  fs::rename(tmp, link);
}

class Hub {
 public:
  Hub(const PullOptions& o, const std::string& repo)
      : endpoint_(parse_endpoint(
            o.endpoint.empty() ? env_or("HF_ENDPOINT", "https://huggingface.co") : o.endpoint)),
        client_(endpoint_.origin),
        repo_(repo) {
    client_.set_connection_timeout(o.timeout_seconds);
    client_.set_read_timeout(o.timeout_seconds);
    timeout_ = o.timeout_seconds;
    const std::string token = o.token.empty() ? env_or("HF_TOKEN", "") : o.token;
    if (!token.empty()) headers_.emplace("Authorization", "Bearer " + token);
    headers_.emplace("User-Agent", "skillmatch");
  }

  hub::RevisionInfo revision_info(const std::string& revision) {
    const std::string path = endpoint_.prefix + "/api/models/" + repo_ + "/revision/" + revision;
    client_.set_follow_location(true);
    auto res = client_.Get(path, headers_);
    check(res, "model info", path);
    return hub::parse_revision_info(res->body, repo_, where(path));
  }

  // ETag and size of a file, from a HEAD request that does not follow the redirect (the Hub
  // puts X-Linked-Etag / X-Linked-Size on the redirect of large files).
  std::pair<std::string, std::uint64_t> head(const std::string& commit, const std::string& file) {
    const std::string path = resolve_path(commit, file);
    client_.set_follow_location(false);
    auto res = client_.Head(path, headers_);
    SM_CHECK(res, ErrorKind::kIo, where(path) + ": " + describe(res.error(), timeout_));
    SM_CHECK(res->status < 400, ErrorKind::kIo,
             where(path) + ": HTTP " + std::to_string(res->status));
    std::string etag = res->get_header_value("X-Linked-Etag");
    if (etag.empty()) etag = res->get_header_value("ETag");
    std::string size = res->get_header_value("X-Linked-Size");
    if (size.empty()) size = res->get_header_value("Content-Length");
    const hub::FileHead h = hub::parse_file_head(etag, size, where(path));
    return {h.etag, h.size};
  }

  // Downloads `file` into `partial`, continuing from its current size; returns bytes received.
  std::uint64_t download(const std::string& commit, const std::string& file,
                         const fs::path& partial, std::uint64_t size, const PullOptions& o) {
    const std::string path = resolve_path(commit, file);
    std::uint64_t have = fs::exists(partial) ? fs::file_size(partial) : 0;
    if (have > size) {
      fs::remove(partial);
      have = 0;
    }
    if (have == size) return 0;  // complete, but not yet renamed when the last run stopped
    httplib::Headers h = headers_;
    if (have > 0) h.emplace("Range", "bytes=" + std::to_string(have) + "-");
    std::ofstream out;
    std::uint64_t received = 0;
    client_.set_follow_location(true);
    auto res = client_.Get(
        path, h,
        [&](const httplib::Response& r) {
          if (r.status >= 400) return false;
          // 206: the server continues where we stopped; 200: it sends everything again.
          const bool resumed = r.status == 206;
          out.open(partial, std::ios::binary | (resumed ? std::ios::app : std::ios::trunc));
          if (!resumed) have = 0;
          return out.good();
        },
        [&](const char* data, std::size_t len) {
          out.write(data, static_cast<std::streamsize>(len));
          received += len;
          if (o.progress) o.progress(file, have + received, size);
          return out.good();
        });
    out.close();
    check(res, "download", path);
    return received;
  }

 private:
  std::string resolve_path(const std::string& commit, const std::string& file) const {
    return endpoint_.prefix + "/" + repo_ + "/resolve/" + commit + "/" + file;
  }
  std::string where(const std::string& path) const {
    return "pulling " + repo_ + " from " + endpoint_.origin + path;
  }
  void check(const httplib::Result& res, const char* what, const std::string& path) const {
    SM_CHECK(res, ErrorKind::kIo, where(path) + ": " + describe(res.error(), timeout_));
    if (res->status == 401 || res->status == 403 || res->status == 404) {
      throw Error(ErrorKind::kNotFound, "model " + repo_ + " not found at " + endpoint_.origin +
                                            " (HTTP " + std::to_string(res->status) + " for the " +
                                            what + "; a private model needs HF_TOKEN)");
    }
    SM_CHECK(res->status < 400, ErrorKind::kIo,
             where(path) + ": HTTP " + std::to_string(res->status));
  }

  Endpoint endpoint_;
  httplib::Client client_;
  int timeout_ = 30;
  std::string repo_;
  httplib::Headers headers_;
};

}  // namespace

PullResult pull_model(const std::string& repo_id, const PullOptions& o) {
  const auto slash = repo_id.find('/');
  SM_CHECK(slash != std::string::npos && slash > 0 && slash + 1 < repo_id.size() &&
               repo_id.find('/', slash + 1) == std::string::npos &&
               repo_id.find("..") == std::string::npos,
           ErrorKind::kInvalidArgument, "'" + repo_id + "' is not a Hub id (org/name)");
  check_revision(o.revision);
  SM_CHECK(o.timeout_seconds >= 1, ErrorKind::kInvalidArgument, "the timeout must be >= 1 s");
  Hub hub(o, repo_id);
  const hub::RevisionInfo info = hub.revision_info(o.revision);
  const std::string& commit = info.commit;
  const std::vector<std::string>& files = info.files;

  const fs::path cache = o.cache.empty() ? hf_hub_cache() : o.cache;
  const std::string slug = "models--" + repo_id.substr(0, slash) + "--" + repo_id.substr(slash + 1);
  const fs::path repo_dir = cache / slug;
  const fs::path blobs = repo_dir / "blobs";
  const fs::path snapshot = repo_dir / "snapshots" / commit;
  fs::create_directories(blobs);
  fs::create_directories(snapshot);

  PullResult result;
  result.snapshot = snapshot;
  result.commit = commit;
  for (const std::string& file : files) {
    const auto [etag, size] = hub.head(commit, file);
    const fs::path blob = blobs / etag;
    if (!(fs::exists(blob) && fs::file_size(blob) == size)) {
      const fs::path partial = blob.string() + ".incomplete";
      result.bytes_downloaded += hub.download(commit, file, partial, size, o);
      const std::uint64_t got = fs::exists(partial) ? fs::file_size(partial) : 0;
      SM_CHECK(got == size, ErrorKind::kIo,
               "pulling " + repo_id + ": " + file + " has " + std::to_string(got) +
                   " bytes, the server announced " + std::to_string(size) +
                   " (run pull again to resume)");
      fs::rename(partial, blob);
    }
    // snapshots/<commit>/<dir>/<name> -> ../../(../)blobs/<etag>
    fs::path target = fs::path("..") / ".." / "blobs" / etag;
    for (std::size_t d = std::count(file.begin(), file.end(), '/'); d > 0; --d) {
      target = fs::path("..") / target;
    }
    set_symlink(snapshot / file, target);
    ++result.files;
  }
  fs::create_directories(repo_dir / "refs");
  if (o.revision != commit) write_text(repo_dir / "refs" / o.revision, commit);
  return result;
}

}  // namespace skillmatch
