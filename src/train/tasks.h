// What differs between training a bi-encoder and a cross-encoder: the data as token ids, the
// forward and backward of one batch under its loss, evaluation, and the saved folder. The loop,
// optimizer and checkpoints (trainer.cpp) are shared. Private to src/train.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "skillmatch/model/model_folder.h"
#include "skillmatch/train/trainer.h"
#include "train/xlmr_module.h"

namespace skillmatch {

struct StepResult {
  double loss = 0;         // the batch's loss (before any scaling)
  std::size_t tokens = 0;  // input tokens without padding
};

// A generator for the sampling of one example in one epoch: the same whatever the batch order
// or a resume, as long as seed, epoch and example are.
std::mt19937_64 example_rng(std::uint64_t seed, std::uint64_t epoch, std::size_t example);

// bfloat16 autocast of the CPU for its lifetime (as torch.autocast("cpu", torch.bfloat16)): the
// cache of cast weights is cleared on leaving the outermost one, since weights change between
// steps.
class AutocastGuard {
 public:
  explicit AutocastGuard(bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

class TrainTask : public TrainingModelView {
 public:
  // Examples (or pairs, for binary cross-entropy) the epochs iterate over.
  virtual std::size_t size() const = 0;
  // Forward and backward of the examples `rows` (gradients are added to the parameters' .grad),
  // the loss multiplied by `loss_scale` before back-propagation.
  virtual StepResult step(const std::vector<std::size_t>& rows, std::uint64_t epoch,
                          double loss_scale) = 0;
  virtual TrainableXlmr& model() = 0;
  // Writes the model as a Hugging Face folder (staged and renamed into place).
  virtual void write(const std::filesystem::path& out, TensorDType dtype) const = 0;
  // What identifies the data and model (for refusing a resume of another run).
  virtual std::string fingerprint() const = 0;
  // Hashes of the texts of example `row` (query, positives, negatives): two examples that share
  // one should not meet in a batch (TrainSettings::no_duplicates). Empty: no such rule.
  virtual std::vector<std::uint64_t> text_keys(std::size_t /*row*/) const { return {}; }
};

// `order` rearranged so that each run of `batch` consecutive examples (the batches) holds no
// key twice, as sentence-transformers' NO_DUPLICATES batch sampler builds batches: each batch
// takes the next examples of `order` whose keys it has not seen yet; a batch that cannot be
// filled so takes the next unused ones regardless. Deterministic for its inputs.
std::vector<std::size_t> no_duplicate_order(const std::vector<std::size_t>& order,
                                            const std::vector<std::vector<std::uint64_t>>& keys,
                                            std::size_t batch);

// Throw kInvalidArgument naming the file and line of an example the loss cannot use.
std::unique_ptr<TrainTask> make_embedder_task(const ModelFolder& base,
                                              const std::vector<TrainExample>& data,
                                              const EmbedderTrainSettings& settings,
                                              const std::function<void(const std::string&)>& note);
std::unique_ptr<TrainTask> make_reranker_task(const ModelFolder& base,
                                              const std::vector<TrainExample>& data,
                                              const RerankerTrainSettings& settings,
                                              const std::function<void(const std::string&)>& note);

// FlagEmbedding's training pair from content ids: the query cut to qmax + pmax / 4 ids, the
// passage to pmax + qmax / 2, then the passage (and, should it not suffice, the query) so that
// `<s> q </s></s> p </s>` has at most min(qmax + pmax, limit) ids.
TokenIds flagembedding_train_pair(const Tokenizer& tok, TokenIds query, TokenIds passage,
                                  std::size_t query_max, std::size_t passage_max,
                                  std::size_t limit);

// The state of libtorch's default CPU generator (dropout draws from it).
at::Tensor get_rng_state();
void set_rng_state(const at::Tensor& state);

}  // namespace skillmatch
