// Prometheus metrics of the service: requests by route and status, latency histograms per route,
// input and token counters; the engine's batching figures are added when the text is rendered.
// Thread-safety: record() and render() may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "skillmatch/engine.h"

namespace skillmatch::server {

class Metrics {
 public:
  // One finished request.
  void record(const std::string& route, int status, double seconds);
  // Inputs (texts, pairs) and tokens a route processed.
  void count_inputs(const std::string& route, std::uint64_t inputs);
  // The Prometheus text exposition format.
  std::string render(const EngineStats& engine) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::uint64_t> inputs_;
};

}  // namespace skillmatch::server
