#include "skillmatch/index/indexer.h"

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "skillmatch/catalog/skill_format.h"
#include "skillmatch/core/error.h"

namespace fs = std::filesystem;

namespace skillmatch {

fs::path vector_file(const Workspace& ws, const VectorIdentity& id) {
  return ws.directory() / ("vectors-" + id.key() + ".bin");
}

fs::path ann_file(const Workspace& ws, const VectorIdentity& id) {
  fs::path p = vector_file(ws, id);
  p.replace_extension(".hnsw");
  return p;
}

VectorIdentity vector_identity(const BiEncoder& encoder, const std::string& model_name,
                               const fs::path& model_dir, const std::string& passage_template) {
  return {model_name, model_fingerprint(model_dir), passage_template, encoder.dimension()};
}

std::uint64_t passage_hash(const std::string& passage_template, const Skill& skill) {
  return fnv1a64(format_skill(passage_template, skill));
}

fs::path model_vectors_file(const fs::path& model_dir) {
  return model_dir / "skill-vectors.bin";
}

IndexStats index_skills(Workspace& ws, const BiEncoder& encoder, const VectorIdentity& identity,
                        const ProgressFn& progress, std::size_t chunk, const SkillFilter& filter,
                        const VectorStore* precomputed) {
  SM_CHECK(chunk > 0, ErrorKind::kInvalidArgument, "chunk size must be positive");
  VectorStore store = VectorStore::open_for_append(vector_file(ws, identity), identity);
  IndexStats stats;
  stats.set_aside = store.set_aside();
  std::vector<std::int64_t> ids;
  std::vector<std::uint64_t> hashes;
  std::vector<std::string> passages;
  std::vector<std::int64_t> known_ids;
  std::vector<std::uint64_t> known_hashes;
  std::vector<float> known;
  for (const Skill& s : ws.skills(filter)) {
    ++stats.skills;
    std::string passage = format_skill(identity.passage_template, s);
    const std::uint64_t h = fnv1a64(passage);
    if (store.hash(s.id) == h) {
      ++stats.reused;
      continue;
    }
    if (const float* v = precomputed ? precomputed->find_passage(h) : nullptr) {
      known_ids.push_back(s.id);
      known_hashes.push_back(h);
      known.insert(known.end(), v, v + identity.dimension);
      continue;
    }
    ids.push_back(s.id);
    hashes.push_back(h);
    passages.push_back(std::move(passage));
  }
  if (!known_ids.empty()) {
    SM_CHECK(precomputed->dimension() == identity.dimension, ErrorKind::kInvalidArgument,
             "precomputed vectors have dimension " + std::to_string(precomputed->dimension()) +
                 ", the model " + std::to_string(identity.dimension));
    Matrix m;
    m.rows = known_ids.size();
    m.cols = identity.dimension;
    m.data = std::move(known);
    store.append(known_ids, known_hashes, m);
    stats.precomputed = known_ids.size();
  }
  // The passages carry their prompt in the template ("passage: ..."), as the model cards embed
  // skills; no prompt is added on top.
  for (std::size_t begin = 0; begin < passages.size(); begin += chunk) {
    const std::size_t end = std::min(passages.size(), begin + chunk);
    const std::vector<std::string> part(passages.begin() + static_cast<std::ptrdiff_t>(begin),
                                        passages.begin() + static_cast<std::ptrdiff_t>(end));
    const Matrix m = encoder.embed(part);
    store.append({ids.begin() + static_cast<std::ptrdiff_t>(begin),
                  ids.begin() + static_cast<std::ptrdiff_t>(end)},
                 {hashes.begin() + static_cast<std::ptrdiff_t>(begin),
                  hashes.begin() + static_cast<std::ptrdiff_t>(end)},
                 m);
    stats.embedded += end - begin;
    if (progress) progress(end, passages.size());
  }
  ws.set_meta("index.embedder",
              nlohmann::json{{"model", identity.model},
                             {"fingerprint", identity.fingerprint},
                             {"template", identity.passage_template},
                             {"dimension", identity.dimension},
                             {"file", vector_file(ws, identity).filename().string()}}
                  .dump());
  return stats;
}

}  // namespace skillmatch
