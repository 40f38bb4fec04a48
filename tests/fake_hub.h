// A local HTTP server imitating the Hugging Face Hub for one model, org/tiny, served from a
// folder: the model-info API and resolve URLs with ETags, sizes and Range support; it can break
// off transfers of model.safetensors half-way.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace skillmatch::test {

namespace fs = std::filesystem;

constexpr const char* kCommit = "0123456789abcdef0123456789abcdef01234567";

class FakeHub {
 public:
  explicit FakeHub(fs::path folder) : folder_(std::move(folder)) {
    server_.Get("/api/models/org/tiny/revision/main",
                [this](const httplib::Request&, httplib::Response& res) {
                  nlohmann::json siblings = nlohmann::json::array();
                  for (auto& e : fs::recursive_directory_iterator(folder_)) {
                    if (e.is_regular_file()) {
                      siblings.push_back({{"rfilename", fs::relative(e.path(), folder_).string()}});
                    }
                  }
                  siblings.push_back({{"rfilename", "README.md"}});  // not wanted, must be skipped
                  res.set_content(nlohmann::json{{"sha", kCommit}, {"siblings", siblings}}.dump(),
                                  "application/json");
                });
    server_.Get(std::string("/org/tiny/resolve/") + kCommit + "/(.*)",
                [this](const httplib::Request& req, httplib::Response& res) { serve(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> breaks_left{0};  // transfers of model.safetensors to cut off half-way
  std::atomic<int> range_requests{0};
  std::atomic<int> weight_gets{0};

 private:
  void serve(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const fs::path file = folder_ / name;
    if (!fs::is_regular_file(file)) {
      res.status = 404;
      return;
    }
    auto body = std::make_shared<std::string>(test::slurp(file));
    res.set_header("ETag", "\"etag-" + std::to_string(std::hash<std::string>()(*body)) + "\"");
    if (req.method == "HEAD") {
      res.set_header("Content-Length", std::to_string(body->size()));
      return;
    }
    // httplib answers Range requests itself (206 with the asked part of the provider).
    if (req.has_header("Range")) ++range_requests;
    const bool cut = name == "model.safetensors" && breaks_left.fetch_sub(1) > 0;
    if (name == "model.safetensors") ++weight_gets;
    const std::size_t total = body->size();
    res.set_content_provider(
        total, "application/octet-stream",
        [body, total, cut](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          if (cut && offset >= total / 2) return false;  // the connection breaks
          sink.write(body->data() + offset, std::min<std::size_t>(length, 65536));
          return true;
        });
  }

  fs::path folder_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace skillmatch::test
