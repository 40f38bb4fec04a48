#include "engine/inference_queue.h"

#include <algorithm>

#include "skillmatch/core/error.h"

namespace skillmatch {
namespace {

std::size_t bucket(std::size_t jobs) {
  std::size_t b = 0;
  for (std::size_t n = 1; n < jobs; n *= 2) ++b;
  return b;
}

}  // namespace

InferenceQueue::InferenceQueue(QueueLimits limits) : limits_(limits) {
  stats_.batch_jobs.assign(8, 0);
  worker_ = std::thread([this] { work(); });
}

InferenceQueue::~InferenceQueue() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

Matrix InferenceQueue::run(const std::string& key, const Runner& runner,
                           std::vector<TokenIds> inputs) {
  if (inputs.empty()) return runner(inputs);
  Job job;
  job.key = key;
  job.runner = runner;
  for (const auto& in : inputs) job.tokens += in.size();
  job.inputs = std::move(inputs);
  job.queued = std::chrono::steady_clock::now();
  std::future<Matrix> result = job.done.get_future();
  {
    const std::lock_guard<std::mutex> lock(mu_);
    if (jobs_.size() >= limits_.max_queue) {
      ++stats_.refused;
      throw Error(ErrorKind::kBusy, "the model is overloaded: " + std::to_string(jobs_.size()) +
                                        " jobs are waiting (at most " +
                                        std::to_string(limits_.max_queue) + ")");
    }
    SM_CHECK(!stopping_, ErrorKind::kBusy, "the service is shutting down");
    jobs_.push_back(std::move(job));
    ++stats_.jobs;
  }
  wake_.notify_one();
  return result.get();
}

void InferenceQueue::work() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      // The oldest job and every later one of the same model that fits the token budget.
      const std::string key = jobs_.front().key;
      std::size_t tokens = 0;
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->key == key && (batch.empty() || tokens + it->tokens <= limits_.max_batch_tokens)) {
          tokens += it->tokens;
          batch.push_back(std::move(*it));
          it = jobs_.erase(it);
        } else {
          ++it;
        }
      }
      ++stats_.batches;
      ++stats_.batch_jobs[std::min(bucket(batch.size()), stats_.batch_jobs.size() - 1)];
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<TokenIds> inputs;
    std::vector<Job*> live;
    for (Job& j : batch) {
      if (now - j.queued > limits_.max_wait) {
        const std::lock_guard<std::mutex> lock(mu_);
        ++stats_.refused;
        j.done.set_exception(std::make_exception_ptr(
            Error(ErrorKind::kBusy, "the model is overloaded: the request waited longer than " +
                                        std::to_string(limits_.max_wait.count()) + " ms")));
        continue;
      }
      live.push_back(&j);
      for (auto& in : j.inputs) inputs.push_back(std::move(in));
    }
    if (live.empty()) continue;
    std::size_t answered = 0;  // jobs whose promise is already satisfied
    try {
      const Matrix out = live.front()->runner(inputs);
      std::size_t row = 0;
      for (Job* j : live) {
        Matrix part(j->inputs.size(), out.cols);
        std::copy_n(out.row(row), part.data.size(), part.data.data());
        row += j->inputs.size();
        j->done.set_value(std::move(part));
        ++answered;
      }
      const std::lock_guard<std::mutex> lock(mu_);
      stats_.inputs += inputs.size();
      for (const auto& in : inputs) stats_.tokens += in.size();
    } catch (...) {
      for (std::size_t k = answered; k < live.size(); ++k) {
        live[k]->done.set_exception(std::current_exception());
      }
    }
  }
}

QueueStats InferenceQueue::stats() const {
  const std::lock_guard<std::mutex> lock(mu_);
  QueueStats s = stats_;
  s.queued = jobs_.size();
  return s;
}

}  // namespace skillmatch
