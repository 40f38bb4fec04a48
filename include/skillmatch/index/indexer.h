// Embedding every skill of a workspace with a bi-encoder, resumably.
#pragma once

#include <filesystem>
#include <string>

#include "skillmatch/catalog/skill_format.h"
#include "skillmatch/catalog/workspace.h"
#include "skillmatch/index/vector_store.h"
#include "skillmatch/model/bi_encoder.h"

namespace skillmatch {

// The vector file of a workspace for an identity: DIR/vectors-<key>.bin.
std::filesystem::path vector_file(const Workspace& ws, const VectorIdentity& id);

// The approximate (HNSW) index beside it: DIR/vectors-<key>.hnsw.
std::filesystem::path ann_file(const Workspace& ws, const VectorIdentity& id);

// The identity of `encoder` loaded from `model_dir` (named `model_name` in messages).
VectorIdentity vector_identity(const BiEncoder& encoder, const std::string& model_name,
                               const std::filesystem::path& model_dir,
                               const std::string& passage_template);

struct IndexStats {
  std::size_t skills = 0;       // in the workspace (that pass the filter)
  std::size_t embedded = 0;     // new or changed passages embedded in this run
  std::size_t reused = 0;       // already in the vector file with the same passage
  std::size_t precomputed = 0;  // taken from the precomputed vectors (not embedded)
  std::size_t tokens = 0;       // token ids of the passages embedded in this run
  // The precomputed vectors disagreed with the model on a probe (another tokenizer or pooling
  // than they were made with): none was taken, everything was embedded.
  bool precomputed_rejected = false;
  std::filesystem::path set_aside;  // a damaged vector file moved aside, if any
};

// The hash of a skill's passage that the vector file records: a vector is current when the
// file's hash for the skill equals this.
std::uint64_t passage_hash(const std::string& passage_template, const Skill& skill);

// Embeds every skill (of those that pass `filter`) whose passage is not yet in the vector file
// (new, changed, or left over by an interrupted run) in chunks of `chunk` skills, appending each
// chunk durably under the file's writer lock; records the identity in the workspace's metadata
// ("index.embedder") when done. `progress(done, total)` counts skills to embed in this run.
// `precomputed` (optional): vectors of the same model and template made elsewhere (those shipped
// beside a model folder, see model_vectors_file()); a skill whose passage hash is found there
// takes that vector instead of being embedded (counted in `precomputed`). A few of them are
// embedded again first and must agree (cosine >= 0.99), else none is taken. kInvalidArgument
// when `precomputed` was made for another model, template or dimension.
IndexStats index_skills(Workspace& ws, const BiEncoder& encoder, const VectorIdentity& identity,
                        const ProgressFn& progress = nullptr, std::size_t chunk = 256,
                        const SkillFilter& filter = {}, const VectorStore* precomputed = nullptr);

// The skill vectors a model folder may carry ("skill-vectors.bin", written by `skillmatch index
// --export-vectors`): a vector file whose records are keyed by passage hash.
std::filesystem::path model_vectors_file(const std::filesystem::path& model_dir);

}  // namespace skillmatch
