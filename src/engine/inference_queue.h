// Dynamic batching, as text-embeddings-inference does it: callers from many threads hand in
// tokenized inputs for a model; one worker thread runs the inputs of several callers through the
// model together, up to a token budget per pass, so that a service under load runs few large
// matrix products instead of many small ones competing for the cores. Private to the engine.
//
// Thread-safety: run() may be called from any number of threads. Errors: kBusy when the queue is
// full or a job waited longer than the limit; whatever the job's runner throws is rethrown to its
// caller.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "skillmatch/core/matrix.h"
#include "skillmatch/text/tokenizer.h"

namespace skillmatch {

struct QueueLimits {
  std::size_t max_batch_tokens = 16384;       // tokens (before padding) of one pass across callers
  std::size_t max_queue = 1024;               // jobs waiting; more are refused (kBusy)
  std::chrono::milliseconds max_wait{60000};  // a job that waited longer is refused (kBusy)
};

// What the queue has done, for /metrics.
struct QueueStats {
  std::uint64_t jobs = 0, batches = 0, inputs = 0, tokens = 0, refused = 0;
  std::size_t queued = 0;                 // jobs waiting now
  std::vector<std::uint64_t> batch_jobs;  // batches by jobs per batch: [1], [2], [3-4], [5-8], ...
};

class InferenceQueue {
 public:
  // Runs `inputs` (one row of the result per input) through a model.
  using Runner = std::function<Matrix(const std::vector<TokenIds>& inputs)>;

  explicit InferenceQueue(QueueLimits limits);
  // Runs what is queued, then stops the worker.
  ~InferenceQueue();
  InferenceQueue(const InferenceQueue&) = delete;
  InferenceQueue& operator=(const InferenceQueue&) = delete;

  // Jobs with the same `key` (a model and its settings) are batched together: their inputs are
  // concatenated, `runner` of the first runs them, and each caller gets its rows. Blocks until
  // done.
  Matrix run(const std::string& key, const Runner& runner, std::vector<TokenIds> inputs);

  QueueStats stats() const;
  const QueueLimits& limits() const noexcept { return limits_; }

 private:
  struct Job {
    std::string key;
    Runner runner;
    std::vector<TokenIds> inputs;
    std::size_t tokens = 0;
    std::chrono::steady_clock::time_point queued;
    std::promise<Matrix> done;
  };
  void work();

  QueueLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  QueueStats stats_;
  std::thread worker_;
};

}  // namespace skillmatch
