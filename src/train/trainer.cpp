// The training loop both trainers share: data order, gradient accumulation, clipping, AdamW,
// the learning-rate schedule, progress, evaluation, checkpoints and resume.
#include "skillmatch/train/trainer.h"

#include <ATen/core/grad_mode.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "model/torch_runtime.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/model/runtime.h"
#include "train/tasks.h"

namespace fs = std::filesystem;

namespace skillmatch {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

nlohmann::json common_json(const TrainSettings& s) {
  nlohmann::json j = {{"epochs", s.epochs},
                      {"batch_size", s.batch_size},
                      {"grad_accum", s.grad_accum},
                      {"lr", s.lr},
                      {"warmup_ratio", s.warmup_ratio},
                      {"weight_decay", s.weight_decay},
                      {"max_grad_norm", s.max_grad_norm},
                      {"seed", s.seed},
                      {"bf16", s.bf16},
                      {"dropout", s.dropout},
                      {"max_steps", s.max_steps}};
  if (s.no_duplicates) j["no_duplicates"] = true;  // absent otherwise: older runs still resume
  return j;
}

// Hugging Face's get_linear_schedule_with_warmup: the factor of the base rate at `step` optimizer
// steps done.
double schedule(std::size_t step, std::size_t warmup, std::size_t total) {
  if (step < warmup) return double(step) / double(std::max<std::size_t>(1, warmup));
  return std::max(0.0, double(total - std::min(step, total)) /
                           double(std::max<std::size_t>(1, total - warmup)));
}

std::string hex_bytes(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  const auto* p = static_cast<const unsigned char*>(c.data_ptr());
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::int64_t i = 0; i < c.numel(); ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

at::Tensor bytes_from_hex(const std::string& s) {
  at::Tensor t = at::empty({static_cast<std::int64_t>(s.size() / 2)}, at::kByte);
  auto* p = static_cast<unsigned char*>(t.data_ptr());
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    p[i / 2] = static_cast<unsigned char>(v(s[i]) * 16 + v(s[i + 1]));
  }
  return t;
}

nlohmann::json metrics_json(const MetricValues& m) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [k, v] : m) j.push_back({k, v});
  return j;
}

MetricValues metrics_from_json(const nlohmann::json& j) {
  MetricValues m;
  for (const auto& kv : j) m.emplace_back(kv[0].get<std::string>(), kv[1].get<double>());
  return m;
}

class Run {
 public:
  Run(TrainTask& task, const TrainSettings& s, const TrainEvents& events, std::string settings)
      : task_(task), s_(s), events_(events) {
    SM_CHECK(s.epochs >= 1 && s.batch_size >= 1 && s.grad_accum >= 1, ErrorKind::kInvalidArgument,
             "epochs, batch-size and grad-accum must be at least 1");
    SM_CHECK(!s.out.empty(), ErrorKind::kInvalidArgument, "no output folder given (--out)");
    run_dir_ = s.run_dir.empty() ? fs::path(s.out.string() + ".run") : s.run_dir;
    fingerprint_ = hex64(fnv1a64(settings + "\n" + task.fingerprint()));
    batches_ = (task.size() + s.batch_size - 1) / s.batch_size;
    steps_per_epoch_ = (batches_ + s.grad_accum - 1) / s.grad_accum;
    total_ = steps_per_epoch_ * s.epochs;
    if (s.max_steps) total_ = std::min(total_, s.max_steps);
    warmup_ = static_cast<std::size_t>(std::ceil(double(total_) * s.warmup_ratio));

    std::vector<at::Tensor> decay, no_decay;
    for (const TrainParam& p : task.model().params())
      (p.decay ? decay : no_decay).push_back(p.value);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(s.lr).weight_decay(s.weight_decay)));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(s.lr).weight_decay(0.0)));
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        std::move(groups), torch::optim::AdamWOptions(s.lr).weight_decay(s.weight_decay));
  }

  TrainReport run() {
    prepare_run_dir();
    TrainReport report;
    report.total_steps = total_;
    report.examples = task_.size();
    report.resumed_from_step = state_.step;
    if (state_.step == 0) set_seed();
    const Clock::time_point start = Clock::now();
    Clock::time_point interval_start = start;
    std::size_t interval_tokens = 0, run_tokens = 0;
    double first_step_seconds = 0;
    std::size_t first_step_tokens = 0;
    bool evaluated_last = false;
    for (; state_.epoch < s_.epochs && state_.step < total_; ++state_.epoch, state_.batch = 0) {
      const std::vector<std::size_t> order = epoch_order(state_.epoch);
      while (state_.batch < batches_ && state_.step < total_) {
        const std::size_t n = std::min(s_.grad_accum, batches_ - state_.batch);
        const Clock::time_point step_start = Clock::now();
        std::size_t step_tokens = 0;
        for (std::size_t j = 0; j < n; ++j) {
          const std::size_t b = state_.batch + j;
          const std::vector<std::size_t> rows(
              order.begin() + static_cast<std::ptrdiff_t>(b * s_.batch_size),
              order.begin() +
                  static_cast<std::ptrdiff_t>(std::min(order.size(), (b + 1) * s_.batch_size)));
          const StepResult r = task_.step(rows, state_.epoch, 1.0 / double(n));
          SM_CHECK(std::isfinite(r.loss), ErrorKind::kInvalidArgument,
                   "the loss is not finite at step " + std::to_string(state_.step + 1) +
                       "; lower the learning rate");
          state_.loss_sum += r.loss / double(n);
          step_tokens += r.tokens;
        }
        const double lr = s_.lr * schedule(state_.step, warmup_, total_);
        optimizer_step(lr);
        state_.batch += n;
        ++state_.step;
        ++state_.loss_count;
        interval_tokens += step_tokens;
        run_tokens += step_tokens;
        if (state_.step == report.resumed_from_step + 1) {
          first_step_seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
          first_step_tokens = step_tokens;
        }
        const bool epoch_end = state_.batch >= batches_;
        const bool last = state_.step >= total_;
        if (state_.step % s_.log_steps == 0 || last) {
          const Clock::time_point now = Clock::now();
          TrainProgress p;
          p.step = state_.step;
          p.total_steps = total_;
          p.epoch = double(state_.step) / double(steps_per_epoch_);
          p.loss = state_.loss_sum / double(std::max<std::size_t>(1, state_.loss_count));
          p.lr = lr;
          const double secs = std::chrono::duration<double>(now - interval_start).count();
          p.tokens_per_second = secs > 0 ? double(interval_tokens) / secs : 0;
          p.seconds = std::chrono::duration<double>(now - start).count();
          if (events_.on_progress) events_.on_progress(p);
          report.final_loss = p.loss;
          state_.loss_sum = 0;
          state_.loss_count = 0;
          interval_tokens = 0;
          interval_start = now;
        }
        evaluated_last = false;
        if (events_.evaluate && ((s_.eval_steps && state_.step % s_.eval_steps == 0) ||
                                 (!s_.eval_steps && epoch_end) || last)) {
          evaluate();
          evaluated_last = true;
        }
        if (!last && (state_.step % s_.save_steps == 0 || epoch_end)) save_checkpoint();
      }
    }
    if (events_.evaluate && !evaluated_last) evaluate();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    report.seconds = secs;
    const double timed = secs - first_step_seconds;
    report.tokens_per_second = state_.step > report.resumed_from_step + 1 && timed > 0
                                   ? double(run_tokens - first_step_tokens) / timed
                                   : (secs > 0 ? double(run_tokens) / secs : 0);
    report.steps = state_.step;
    if (state_.best_step) {
      load_weights(run_dir_ / "best.safetensors");
      note("saving the best checkpoint: step " + std::to_string(*state_.best_step) + ", " +
           s_.metric + " " + std::to_string(*state_.best_metric));
    }
    task_.write(s_.out, s_.save_dtype);
    report.out = s_.out;
    report.evaluations = state_.evaluations;
    report.best_step = state_.best_step;
    report.best_metric = state_.best_metric;
    report.peak_rss_bytes = peak_rss_bytes();
    if (!s_.keep_run_dir) {
      std::error_code ec;
      fs::remove_all(run_dir_, ec);
    }
    return report;
  }

 private:
  struct State {
    std::size_t step = 0, epoch = 0, batch = 0;
    double loss_sum = 0;
    std::size_t loss_count = 0;
    std::vector<std::pair<std::size_t, MetricValues>> evaluations;
    std::optional<std::size_t> best_step;
    std::optional<double> best_metric;
  };

  void note(const std::string& m) const {
    if (events_.note) events_.note(m);
  }

  void set_seed() const {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    const std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(s_.seed);
  }

  std::vector<std::size_t> epoch_order(std::size_t epoch) {
    std::vector<std::size_t> order(task_.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng = example_rng(s_.seed, epoch, ~std::size_t{0});
    for (std::size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
    }
    if (!s_.no_duplicates) return order;
    if (keys_.empty()) {
      keys_.resize(task_.size());
      for (std::size_t r = 0; r < task_.size(); ++r) keys_[r] = task_.text_keys(r);
    }
    return no_duplicate_order(order, keys_, s_.batch_size);
  }

  void optimizer_step(double lr) {
    std::vector<at::Tensor> grads;
    for (const TrainParam& p : task_.model().params()) {
      if (p.value.grad().defined()) grads.push_back(p.value.grad());
    }
    if (s_.max_grad_norm > 0 && !grads.empty()) {
      // torch.nn.utils.clip_grad_norm_: the global L2 norm, every gradient times
      // min(1, max_norm / (norm + 1e-6)).
      std::vector<at::Tensor> norms;
      for (const at::Tensor& g : grads) norms.push_back(g.norm(2));
      const at::Tensor total = at::stack(norms).norm(2);
      const at::Tensor coef = (s_.max_grad_norm / (total + 1e-6)).clamp_max(1.0);
      for (at::Tensor& g : grads) g.mul_(coef);
    }
    for (auto& group : optimizer_->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    optimizer_->step();
    optimizer_->zero_grad();
  }

  void evaluate() {
    MetricValues m;
    {
      const at::NoGradGuard no_grad;
      m = events_.evaluate(task_);
    }
    state_.evaluations.emplace_back(state_.step, m);
    const auto it =
        std::find_if(m.begin(), m.end(), [&](const auto& kv) { return kv.first == s_.metric; });
    if (it == m.end()) {
      std::string known;
      for (const auto& kv : m) known += (known.empty() ? "" : ", ") + kv.first;
      throw Error(ErrorKind::kInvalidArgument,
                  "metric: the evaluation gives no '" + s_.metric + "' (it gives " + known + ")");
    }
    std::string line = "eval step " + std::to_string(state_.step) + ":";
    // The columns of the model cards' summary (all of them are in the report).
    const std::set<std::string> shown = {"accuracy@1", "accuracy@10", "recall@10", "mrr@10",
                                         "ndcg@10",    "map@100",     s_.metric};
    for (const auto& [k, v] : m) {
      if (!shown.count(k)) continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s %.4f", k.c_str(), v);
      line += buf;
    }
    if (!state_.best_metric || it->second > *state_.best_metric) {
      state_.best_metric = it->second;
      state_.best_step = state_.step;
      write_weights(run_dir_ / "best.safetensors");
      line += " (best so far)";
    }
    note(line);
  }

  void write_weights(const fs::path& file) const {
    std::vector<WeightTensor> w;
    for (const TrainParam& p : task_.model().params()) {
      const at::Tensor& t = p.value;
      w.push_back({p.name, TensorDType::kF32,
                   std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr(),
                   static_cast<std::size_t>(t.nbytes())});
    }
    write_safetensors(file, w);
  }

  void load_weights(const fs::path& file) {
    const SafetensorsFile f = SafetensorsFile::open(file);
    const at::NoGradGuard no_grad;
    for (TrainParam& p : task_.model().params()) {
      const TensorInfo* info = f.find(p.name);
      SM_CHECK(info && info->dtype == TensorDType::kF32 &&
                   info->nbytes == static_cast<std::size_t>(p.value.nbytes()),
               ErrorKind::kCorrupt,
               file.string() + ": tensor " + p.name + " is missing or differs");
      std::memcpy(p.value.data_ptr(), f.data(*info), info->nbytes);
    }
  }

  // checkpoint/ is written as checkpoint.tmp/ and swapped in; a kill at any moment leaves a
  // complete checkpoint/ or checkpoint.old/.
  void save_checkpoint() {
    const fs::path tmp = run_dir_ / "checkpoint.tmp", cur = run_dir_ / "checkpoint",
                   old = run_dir_ / "checkpoint.old";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp);
    write_weights(tmp / "weights.safetensors");
    torch::save(*optimizer_, (tmp / "optimizer.pt").string());
    nlohmann::json j;
    j["fingerprint"] = fingerprint_;
    j["threads"] = num_threads();
    // Where the next step starts.
    const bool epoch_done = state_.batch >= batches_;
    j["step"] = state_.step;
    j["epoch"] = state_.epoch + (epoch_done ? 1 : 0);
    j["batch"] = epoch_done ? 0 : state_.batch;
    j["loss_sum"] = state_.loss_sum;
    j["loss_count"] = state_.loss_count;
    j["rng"] = hex_bytes(get_rng_state());
    nlohmann::json evals = nlohmann::json::array();
    for (const auto& [step, m] : state_.evaluations)
      evals.push_back({{"step", step}, {"metrics", metrics_json(m)}});
    j["evaluations"] = evals;
    if (state_.best_step) {
      j["best_step"] = *state_.best_step;
      j["best_metric"] = *state_.best_metric;
    }
    write_file_atomic(tmp / "state.json", [&](std::FILE* f) {
      const std::string text = j.dump(1) + "\n";
      SM_CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size(), ErrorKind::kIo,
               "cannot write " + (tmp / "state.json").string());
    });
    fs::remove_all(old, ec);
    if (fs::exists(cur)) fs::rename(cur, old);
    fs::rename(tmp, cur);
    fs::remove_all(old, ec);
  }

  void prepare_run_dir() {
    fs::path cp = run_dir_ / "checkpoint";
    if (!fs::exists(cp / "state.json")) cp = run_dir_ / "checkpoint.old";
    const bool have = fs::exists(cp / "state.json");
    if (!s_.resume) {
      SM_CHECK(!have, ErrorKind::kInvalidArgument,
               run_dir_.string() +
                   " holds a checkpoint of an unfinished run: pass --resume to continue it, or "
                   "remove the folder to start again");
      std::error_code ec;
      fs::remove_all(run_dir_, ec);
      fs::create_directories(run_dir_, ec);
      SM_CHECK(!ec, ErrorKind::kIo, "cannot create " + run_dir_.string() + ": " + ec.message());
      return;
    }
    SM_CHECK(have, ErrorKind::kNotFound,
             "--resume: no checkpoint in " + run_dir_.string() + " (nothing to resume)");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(cp / "state.json"));
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::kCorrupt, (cp / "state.json").string() + ": " + e.what());
    }
    SM_CHECK(j.value("fingerprint", "") == fingerprint_, ErrorKind::kInvalidArgument,
             "--resume: the run in " + run_dir_.string() +
                 " was started with other settings, data or base model; resume it with the "
                 "same ones, or remove the folder to start again");
    if (j.value("threads", 0) != num_threads()) {
      note("resuming with " + std::to_string(num_threads()) + " threads where the run had " +
           std::to_string(j.value("threads", 0)) +
           ": the result may differ from an uninterrupted run in the last digits");
    }
    load_weights(cp / "weights.safetensors");
    torch::load(*optimizer_, (cp / "optimizer.pt").string());
    set_rng_state(bytes_from_hex(j.at("rng").get<std::string>()));
    state_.step = j.at("step").get<std::size_t>();
    state_.epoch = j.at("epoch").get<std::size_t>();
    state_.batch = j.at("batch").get<std::size_t>();
    state_.loss_sum = j.at("loss_sum").get<double>();
    state_.loss_count = j.at("loss_count").get<std::size_t>();
    for (const auto& e : j.at("evaluations")) {
      state_.evaluations.emplace_back(e.at("step").get<std::size_t>(),
                                      metrics_from_json(e.at("metrics")));
    }
    if (j.contains("best_step")) {
      state_.best_step = j["best_step"].get<std::size_t>();
      state_.best_metric = j["best_metric"].get<double>();
    }
    note("resuming " + run_dir_.string() + " at step " + std::to_string(state_.step) + " of " +
         std::to_string(total_));
  }

  TrainTask& task_;
  const TrainSettings& s_;
  std::vector<std::vector<std::uint64_t>> keys_;  // per example, for no_duplicates (made once)
  const TrainEvents& events_;
  fs::path run_dir_;
  std::string fingerprint_;
  std::size_t batches_ = 0, steps_per_epoch_ = 0, total_ = 0, warmup_ = 0;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  State state_;
};

TrainReport run_training(TrainTask& task, const TrainSettings& s, const TrainEvents& events,
                         const nlohmann::json& settings) {
  init_runtime();
  nlohmann::json all = common_json(s);
  all["task"] = settings;
  Run run(task, s, events, all.dump());
  return run.run();
}

}  // namespace

const char* embedder_loss_name(EmbedderLoss loss) noexcept {
  return loss == EmbedderLoss::kMnrl ? "mnrl" : "cached-mnrl";
}

const char* reranker_loss_name(RerankerLoss loss) noexcept {
  return loss == RerankerLoss::kGroupCrossEntropy ? "group-ce" : "bce";
}

TrainReport train_embedder(const ModelFolder& base, const std::vector<TrainExample>& data,
                           const EmbedderTrainSettings& s, const TrainEvents& events) {
  init_runtime();
  const auto task = make_embedder_task(base, data, s, events.note);
  // cached-mnrl computes the same loss and gradients as mnrl: a run may switch between them.
  const nlohmann::json settings = {{"kind", "embedder"},
                                   {"scale", s.scale},
                                   {"max_length", s.max_length},
                                   {"negatives", s.negatives},
                                   {"query_prompt", s.query_prompt},
                                   {"passage_prompt", s.passage_prompt}};
  return run_training(*task, s.train, events, settings);
}

TrainReport train_reranker(const ModelFolder& base, const std::vector<TrainExample>& data,
                           const RerankerTrainSettings& s, const TrainEvents& events) {
  init_runtime();
  const auto task = make_reranker_task(base, data, s, events.note);
  const nlohmann::json settings = {{"kind", "reranker"},
                                   {"loss", reranker_loss_name(s.loss)},
                                   {"group_size", s.group_size},
                                   {"query_max_length", s.query_max_length},
                                   {"passage_max_length", s.passage_max_length}};
  return run_training(*task, s.train, events, settings);
}

}  // namespace skillmatch
