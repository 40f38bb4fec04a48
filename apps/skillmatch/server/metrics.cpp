#include "server/metrics.h"

#include <cstdio>

namespace skillmatch::server {
namespace {

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void Metrics::record(const std::string& route, int status, double seconds) {
  const std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_inputs(const std::string& route, std::uint64_t inputs) {
  const std::lock_guard<std::mutex> lock(mu_);
  inputs_[route] += inputs;
}

std::string Metrics::render(const EngineStats& e) const {
  std::string out;
  const std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP skillmatch_requests_total HTTP requests by route and status.\n";
  out += "# TYPE skillmatch_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "skillmatch_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP skillmatch_request_duration_seconds Time from request to response by route.\n";
  out += "# TYPE skillmatch_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string l = "route=\"" + route + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "skillmatch_request_duration_seconds_bucket{" + l + ",le=\"" + number(kBuckets[i]) +
             "\"} " + std::to_string(h.counts[i]) + "\n";
    }
    out += "skillmatch_request_duration_seconds_bucket{" + l + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "skillmatch_request_duration_seconds_sum{" + l + "} " + number(h.sum) + "\n";
    out += "skillmatch_request_duration_seconds_count{" + l + "} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP skillmatch_inputs_total Texts or pairs processed by route.\n";
  out += "# TYPE skillmatch_inputs_total counter\n";
  for (const auto& [route, n] : inputs_) {
    out += "skillmatch_inputs_total{route=\"" + route + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP skillmatch_queue_size Inference jobs waiting for the batching worker.\n";
  out += "# TYPE skillmatch_queue_size gauge\nskillmatch_queue_size " + std::to_string(e.queued) +
         "\n";
  out += "# HELP skillmatch_batches_total Forward passes of the batching worker.\n";
  out += "# TYPE skillmatch_batches_total counter\nskillmatch_batches_total " +
         std::to_string(e.batches) + "\n";
  out += "# HELP skillmatch_batch_requests Jobs (from separate requests) per batched pass.\n";
  out += "# TYPE skillmatch_batch_requests histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < e.batch_jobs.size(); ++i) {
    cumulative += e.batch_jobs[i];
    const std::string le = i + 1 == e.batch_jobs.size() ? "+Inf" : std::to_string(1u << i);
    out +=
        "skillmatch_batch_requests_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "skillmatch_batch_requests_count " + std::to_string(e.batches) + "\n";
  out += "skillmatch_batch_requests_sum " + std::to_string(e.batched_jobs) + "\n";
  out += "# HELP skillmatch_batch_inputs_total Inputs run by the batching worker.\n";
  out += "# TYPE skillmatch_batch_inputs_total counter\nskillmatch_batch_inputs_total " +
         std::to_string(e.batched_inputs) + "\n";
  out += "# HELP skillmatch_batch_tokens_total Tokens run by the batching worker.\n";
  out += "# TYPE skillmatch_batch_tokens_total counter\nskillmatch_batch_tokens_total " +
         std::to_string(e.batched_tokens) + "\n";
  out += "# HELP skillmatch_queue_refused_total Jobs refused (queue full or waited too long).\n";
  out += "# TYPE skillmatch_queue_refused_total counter\nskillmatch_queue_refused_total " +
         std::to_string(e.refused) + "\n";
  out += "# HELP skillmatch_rerank_cache_total Reranker score cache lookups by result.\n";
  out += "# TYPE skillmatch_rerank_cache_total counter\n";
  out +=
      "skillmatch_rerank_cache_total{result=\"hit\"} " + std::to_string(e.rerank_cache_hits) + "\n";
  out += "skillmatch_rerank_cache_total{result=\"miss\"} " + std::to_string(e.rerank_cache_misses) +
         "\n";
  return out;
}

}  // namespace skillmatch::server
