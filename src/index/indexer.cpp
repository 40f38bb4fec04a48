#include "skillmatch/index/indexer.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "skillmatch/catalog/skill_format.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/matrix.h"

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
  if (precomputed) {
    const VectorIdentity& p = precomputed->identity();
    SM_CHECK(p.fingerprint == identity.fingerprint &&
                 p.passage_template == identity.passage_template &&
                 p.dimension == identity.dimension,
             ErrorKind::kInvalidArgument,
             "precomputed vectors of " + p.model + " do not belong to " + identity.model +
                 " with template \"" + identity.passage_template + "\"");
  }
  VectorStore store = VectorStore::open_for_append(vector_file(ws, identity), identity);
  IndexStats stats;
  stats.set_aside = store.set_aside();
  std::vector<std::int64_t> ids;
  std::vector<std::uint64_t> hashes;
  std::vector<std::string> passages;
  std::vector<std::int64_t> known_ids;
  std::vector<std::uint64_t> known_hashes;
  std::vector<std::string> known_passages;
  std::vector<const float*> known;
  for (const Skill& s : ws.skills(filter)) {
    ++stats.skills;
    std::string passage = format_skill(identity.passage_template, s);
    const std::uint64_t h = fnv1a64(passage);
    if (store.hash(s.id) == h) {
      ++stats.reused;
      continue;
    }
    const float* v = precomputed ? precomputed->find_passage(h) : nullptr;
    (v ? known_ids : ids).push_back(s.id);
    (v ? known_hashes : hashes).push_back(h);
    (v ? known_passages : passages).push_back(std::move(passage));
    if (v) known.push_back(v);
  }
  if (!known_ids.empty()) {
    // The identity covers config and weights, not the tokenizer or the pooling: a few of the
    // vectors are embedded again here, and the file is used only when they agree (0.99 leaves
    // room for a bfloat16 run against float32 vectors).
    const std::size_t probes = std::min<std::size_t>(4, known_ids.size());
    const std::size_t step = known_ids.size() / probes;
    std::vector<std::string> probe_texts;
    for (std::size_t i = 0; i < probes; ++i) probe_texts.push_back(known_passages[i * step]);
    const Matrix fresh = encoder.embed(probe_texts);
    for (std::size_t i = 0; i < probes && !stats.precomputed_rejected; ++i) {
      const double cosine = cosine_double(fresh.row(i), known[i * step], identity.dimension);
      stats.precomputed_rejected = !(cosine >= 0.99);
    }
    if (stats.precomputed_rejected) {
      ids.insert(ids.end(), known_ids.begin(), known_ids.end());
      hashes.insert(hashes.end(), known_hashes.begin(), known_hashes.end());
      for (auto& p : known_passages) passages.push_back(std::move(p));
    } else {
      Matrix m(known_ids.size(), identity.dimension);
      for (std::size_t r = 0; r < known.size(); ++r) {
        std::copy_n(known[r], identity.dimension, m.row(r));
      }
      store.append(known_ids, known_hashes, m);
      stats.precomputed = known_ids.size();
    }
  }
  // The passages carry their prompt in the template ("passage: ..."), as the model cards embed
  // skills; no prompt is added on top.
  for (std::size_t begin = 0; begin < passages.size(); begin += chunk) {
    const std::size_t end = std::min(passages.size(), begin + chunk);
    const std::vector<std::string> part(passages.begin() + static_cast<std::ptrdiff_t>(begin),
                                        passages.begin() + static_cast<std::ptrdiff_t>(end));
    const std::vector<TokenIds> part_ids = encoder.tokenize(part);
    for (const TokenIds& t : part_ids) stats.tokens += t.size();
    const Matrix m = encoder.embed_tokens(part_ids);
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
