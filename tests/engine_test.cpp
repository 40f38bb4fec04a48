// The Engine: one front door used from many threads at once, and a workspace written by another
// process while the Engine reads it.
#include "skillmatch/engine.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "engine/caches.h"
#include "skillmatch/index/indexer.h"
#include "test_util.h"

namespace skillmatch {
namespace {

namespace fs = std::filesystem;
using test::fixtures;

// The 60 skills of the ESCO export sample, imported into a fresh workspace (no shipped data).
std::unique_ptr<Engine> sample_engine(const fs::path& dir) {
  EngineOptions o;
  o.workspace = dir;
  o.seed_defaults = false;
  auto e = std::make_unique<Engine>(o);
  ImportRequest r;
  r.format = "esco";
  r.file = test::test_data() / "esco_export_sample.zip";
  r.language = "en";
  e->import(r);
  return e;
}

MatchOptions options(const std::string& mode, bool rerank) {
  MatchOptions o;
  match_option_table().set(o, "mode", mode);
  o.embedder = (fixtures() / "embedder-mean").string();
  if (rerank) o.reranker = (fixtures() / "reranker").string();
  o.settings.dtype = DType::kFloat32;
  o.search.top = 5;
  return o;
}

// Everything observable of a result list.
std::string dump(const std::vector<MatchResult>& rs) {
  std::string s;
  for (const auto& r : rs) {
    s += r.skill.record.uri + " " + std::to_string(r.score) + " " +
         std::to_string(r.cosine.value_or(-9)) + " " + std::to_string(r.bm25.value_or(-9)) + " " +
         std::to_string(r.rerank_logit.value_or(-9)) + "\n";
  }
  return s;
}

std::string dump(const Matrix& m) {
  return std::string(reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(float));
}

std::string dump(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// One unit of work of the mixed load; returns its result as bytes to compare.
using Task = std::function<std::string(Engine&)>;

std::vector<Task> mixed_tasks() {
  const std::vector<std::string> courses = {
      "Introduction to music management for orchestras",
      "Welding and metal work for beginners",
      "Managing staff and schedules in a small business",
      "Spreadsheet software: formulas, charts and pivot tables",
      "Customer service on the telephone",
  };
  std::vector<Task> tasks;
  for (const auto& c : courses) {
    tasks.push_back([c](Engine& e) { return dump(e.match(c, options("bm25", false))); });
    tasks.push_back([c](Engine& e) { return dump(e.match(c, options("dense", false))); });
    tasks.push_back([c](Engine& e) { return dump(e.match(c, options("hybrid", true))); });
    tasks.push_back([c](Engine& e) {
      EmbedOptions o;
      o.model = (fixtures() / "embedder-cls").string();
      o.prompt_name = "query";
      o.settings.dtype = DType::kFloat32;
      return dump(e.embed({c, c + " (advanced)"}, o));
    });
    tasks.push_back([c](Engine& e) {
      RerankOptions o;
      o.model = (fixtures() / "reranker").string();
      o.settings.dtype = DType::kFloat32;
      return dump(e.rerank({{c, "manage musical staff"}, {c, "weld metal"}}, o));
    });
  }
  // A batch of 200 texts.
  tasks.push_back([courses](Engine& e) {
    std::vector<std::string> batch;
    for (int i = 0; i < 200; ++i)
      batch.push_back(courses[i % courses.size()] + " " + std::to_string(i));
    std::string s;
    for (const auto& r : e.match_batch(batch, options("hybrid", false))) s += dump(r);
    return s;
  });
  return tasks;
}

TEST(Engine, EightThreadsAtOnceGiveTheSerialResults) {
  test::TempDir serial_dir, parallel_dir;
  const auto tasks = mixed_tasks();
  std::vector<std::string> expected;
  {
    auto serial = sample_engine(serial_dir / "ws");
    for (const auto& t : tasks) expected.push_back(t(*serial));
  }
  // A fresh engine: the first calls of all threads race to load the models and to index the
  // skills, which must happen once.
  auto engine = sample_engine(parallel_dir / "ws");
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t k = 0; k < tasks.size(); ++k) {
        const std::size_t i = (k + static_cast<std::size_t>(t) * 5) % tasks.size();
        try {
          if (tasks[i](*engine) != expected[i]) ++mismatches;
        } catch (const std::exception& e) {
          ADD_FAILURE() << "thread " << t << " task " << i << ": " << e.what();
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(mismatches, 0);
  // The skills were embedded once: one vector file, each skill once in it.
  std::size_t files = 0;
  for (const auto& f : fs::directory_iterator(parallel_dir / "ws")) {
    if (f.path().extension() == ".bin") {
      ++files;
      EXPECT_EQ(fs::file_size(f.path()), fs::file_size(serial_dir / "ws" / f.path().filename()));
    }
  }
  EXPECT_EQ(files, 1u);
}

// Another process imports a taxonomy into the workspace while this one matches: every match
// succeeds, and once the import is committed the next match sees the new skills (and embeds
// them).
TEST(Engine, SeesAnImportOfAnotherProcessWhileMatching) {
  test::TempDir dir;
  auto engine = sample_engine(dir / "ws");
  const MatchOptions dense = options("hybrid", false);
  ASSERT_FALSE(engine->match("music", dense).empty());

  std::string csv = "uri,label,description\n";
  for (int i = 0; i < 3000; ++i) {
    csv += "own" + std::to_string(i) + ",Kochen Stufe " + std::to_string(i) +
           ",Gerichte zubereiten und Menüs planen\n";
  }
  test::spit(dir / "own.csv", csv);
  const std::string cmd = std::string("exec ") + SKILLMATCH_CLI + " import custom " +
                          (dir / "own.csv").string() + " --name own -w " + (dir / "ws").string() +
                          " >/dev/null 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  int status = 0, matches = 0;
  bool done = false;
  while (!done) {
    done = ::waitpid(pid, &status, WNOHANG) == pid;
    const auto res = engine->match("music management", dense);
    EXPECT_FALSE(res.empty());
    ++matches;
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GE(matches, 1);
  MatchOptions own = dense;
  own.search.filter.taxonomies = {"own"};
  own.search.mode = RetrievalMode::kBm25;
  const auto res = engine->match("Kochen Stufe 17", own);
  ASSERT_FALSE(res.empty());
  EXPECT_EQ(res[0].skill.taxonomy, "own");
  EXPECT_EQ(engine->skill_count(), 3060u);
  own.search.mode = RetrievalMode::kDense;  // the new skills are embedded on demand
  EXPECT_EQ(engine->match("Gerichte zubereiten", own).size(), 5u);
}

// `index --ann` over part of the workspace builds the graph over every skill with a vector, and
// the same Engine uses it for the next approximate request.
TEST(Engine, IndexAnnWithAFilterAndUseTheGraphAtOnce) {
  test::TempDir dir;
  auto engine = sample_engine(dir / "ws");
  test::spit(dir / "own.csv", "uri,label\nown1,Kochen\nown2,Backen\n");
  ImportRequest r;
  r.format = "custom";
  r.file = dir / "own.csv";
  r.name = "own";
  engine->import(r);
  IndexOptions io;
  io.embedder = (fixtures() / "embedder-mean").string();
  io.settings.dtype = DType::kFloat32;
  io.filter.taxonomies = {"own"};  // the ESCO skills stay without vectors
  io.ann = true;
  const IndexReport rep = engine->index(io);
  EXPECT_EQ(rep.stats.embedded, 2u);
  EXPECT_TRUE(rep.ann_built);
  MatchOptions o = options("dense", false);
  o.search.filter.taxonomies = {"own"};
  o.search.ann = true;
  o.auto_index = false;
  const auto res = engine->match("Kuchen backen", o);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].skill.taxonomy, "own");
}

void import_own(Engine& engine, const fs::path& csv, const std::string& description) {
  test::spit(csv, "uri,label,description\nown1,Kochen," + description + "\n");
  ImportRequest r;
  r.format = "custom";
  r.file = csv;
  r.name = "own";
  r.replace = true;
  engine.import(r);
}

// Vectors exported with `index --export-vectors` into a copy of the model folder are taken by
// another workspace instead of embedding: the same vectors, none embedded; a skill whose passage
// differs is embedded; vectors of other weights, wrong vectors under the right identity and an
// unreadable file are not used.
TEST(Engine, VectorsShippedInTheModelFolderReplaceEmbedding) {
  test::TempDir dir;
  const fs::path model = dir / "model";
  fs::copy(fixtures() / "embedder-mean", model, fs::copy_options::recursive);
  IndexOptions io;
  io.embedder = model.string();
  io.settings.dtype = DType::kFloat32;
  io.export_vectors = (dir / "exported.bin").string();
  {
    auto first = sample_engine(dir / "ws1");
    import_own(*first, dir / "own1.csv", "Speisen zubereiten");
    const IndexReport rep = first->index(io);
    EXPECT_EQ(rep.stats.embedded, rep.stats.skills);
    EXPECT_EQ(rep.exported, rep.stats.skills);
  }
  fs::copy_file(dir / "exported.bin", model_vectors_file(model));
  io.export_vectors.clear();

  // The same skill with another description: its shipped vector does not fit.
  auto second = sample_engine(dir / "ws2");
  import_own(*second, dir / "own2.csv", "Speisen kochen und braten");
  const IndexReport rep = second->index(io);
  EXPECT_FALSE(rep.stats.precomputed_rejected);
  EXPECT_EQ(rep.stats.precomputed, rep.stats.skills - 1);
  EXPECT_EQ(rep.stats.embedded, 1u);

  // The matches equal those of a workspace that embedded everything itself.
  MatchOptions o = options("dense", false);
  auto third = sample_engine(dir / "ws3");
  import_own(*third, dir / "own3.csv", "Speisen kochen und braten");
  const std::string own = dump(third->match("Kochen und managing musicians", o));
  o.embedder = model.string();
  EXPECT_EQ(dump(second->match("Kochen und managing musicians", o)), own);

  // Wrong vectors under the right identity: the probe embeddings disagree, nothing is taken.
  auto fourth = sample_engine(dir / "ws4");
  {
    const VectorIdentity id{"model", model_fingerprint(model), kDefaultPassageTemplate,
                            fourth->model_info(model.string(), io.settings).dimension};
    const VectorStore good = VectorStore::read(dir / "exported.bin", id);
    std::vector<std::int64_t> rows;
    std::vector<std::uint64_t> hashes;
    Matrix wrong(0, id.dimension);
    for (const Skill& s : Workspace::open(dir / "ws4", false).skills()) {
      const std::uint64_t h = passage_hash(id.passage_template, s);
      if (!good.find_passage(h)) continue;
      for (std::size_t d = 0; d < id.dimension; ++d) {
        wrong.data.push_back(d == rows.size() % id.dimension ? 1.0f : 0.0f);
      }
      rows.push_back(static_cast<std::int64_t>(rows.size()));
      hashes.push_back(h);
      ++wrong.rows;
    }
    ASSERT_FALSE(rows.empty());
    VectorStore::write(model_vectors_file(model), id, rows, hashes, wrong);
  }
  const IndexReport rejected = fourth->index(io);
  EXPECT_TRUE(rejected.stats.precomputed_rejected);
  EXPECT_EQ(rejected.stats.precomputed, 0u);
  EXPECT_EQ(rejected.stats.embedded, rejected.stats.skills);

  // An unreadable file (here a folder) is passed over with a note.
  fs::remove(model_vectors_file(model));
  fs::create_directory(model_vectors_file(model));
  auto fifth = sample_engine(dir / "ws5");
  const IndexReport unreadable = fifth->index(io);
  EXPECT_EQ(unreadable.stats.embedded, unreadable.stats.skills);
  fs::remove(model_vectors_file(model));

  // Other weights: the file's fingerprint no longer fits, everything is embedded.
  fs::copy_file(dir / "exported.bin", model_vectors_file(model));
  fs::copy_file(fixtures() / "embedder-cls" / "model.safetensors", model / "model.safetensors",
                fs::copy_options::overwrite_existing);
  auto sixth = sample_engine(dir / "ws6");
  const IndexReport other = sixth->index(io);
  EXPECT_EQ(other.stats.precomputed, 0u);
  EXPECT_EQ(other.stats.embedded, other.stats.skills);
}

// A skill re-embedded with a new passage leaves its old passage's hash behind in the file; that
// hash no longer finds the slot, which holds the new vector now.
TEST(VectorStoreFile, AnOverwrittenSlotAnswersOnlyItsCurrentPassage) {
  test::TempDir dir;
  const VectorIdentity id{"m", "fp", "{label}", 2};
  Matrix a(1, 2), b(1, 2);
  a.data = {1, 0};
  b.data = {0, 1};
  {
    VectorStore w = VectorStore::open_for_append(dir / "v.bin", id);
    w.append({7}, {111}, a);
    w.append({7}, {222}, b);
    EXPECT_EQ(w.find_passage(111), nullptr);
    ASSERT_NE(w.find_passage(222), nullptr);
    EXPECT_EQ(w.find_passage(222)[1], 1.0f);
  }
  const VectorStore r = VectorStore::read(dir / "v.bin", id);
  EXPECT_EQ(r.find_passage(111), nullptr);
  ASSERT_NE(r.find_passage(222), nullptr);
  EXPECT_EQ(r.find_passage(222)[1], 1.0f);
}

// The reranker's score cache: one key per (model, ids), least recently used dropped first.
TEST(Engine, ScoreCacheKeysAndEviction) {
  ScoreCache cache(2);
  const TokenIds a = {0, 5, 2}, b = {0, 5, 2, 2}, c = {0, 6, 2};
  EXPECT_EQ(cache.key("m", a), cache.key("m", a));
  EXPECT_NE(cache.key("m", a), cache.key("m", b));
  EXPECT_NE(cache.key("m", a), cache.key("n", a));
  EXPECT_NE(cache.key("m", {}), cache.key("", {}));
  cache.put(cache.key("m", a), 1.f);
  cache.put(cache.key("m", b), 2.f);
  EXPECT_EQ(cache.get(cache.key("m", a)), 1.f);  // a is now the most recently used
  cache.put(cache.key("m", c), 3.f);             // b goes
  EXPECT_FALSE(cache.get(cache.key("m", b)));
  EXPECT_EQ(cache.get(cache.key("m", a)), 1.f);
  EXPECT_EQ(cache.get(cache.key("m", c)), 3.f);
  EXPECT_EQ(cache.hits_misses(), (std::pair<std::uint64_t, std::uint64_t>{3, 1}));
}

TEST(Engine, FailedModelLoadIsRetriedAndNamed) {
  Engine engine{EngineOptions{}};
  EmbedOptions o;
  o.model = "/no/such/model";
  test::expect_error([&] { engine.embed({"a"}, o); }, ErrorKind::kNotFound, {"/no/such/model"});
  test::expect_error([&] { engine.embed({"a"}, o); }, ErrorKind::kNotFound, {"/no/such/model"});
  // A cross-encoder is not an embedding model.
  o.model = (fixtures() / "reranker").string();
  test::expect_error([&] { engine.embed({"a"}, o); }, ErrorKind::kInvalidArgument,
                     {"cross-encoder", "reranker"});
}

TEST(Engine, MatchTextsAreCheckedAlike) {
  test::TempDir dir;
  auto engine = sample_engine(dir / "ws");
  MatchOptions o;
  o.search.mode = RetrievalMode::kBm25;
  test::expect_error([&] { engine->match(" \n\t", o); }, ErrorKind::kInvalidArgument,
                     {"the text is empty or only white space"});
  test::expect_error(
      [&] {
        engine->match_batch({"music", "  "}, o);
      },
      ErrorKind::kInvalidArgument, {"text 2 is empty"});
  test::expect_error([&] { engine->match(std::string(kMaxTextBytes + 1, 'a'), o); },
                     ErrorKind::kInvalidArgument, {"longer than 1 MiB"});
  test::expect_error([&] { engine->match("bad \xFF", o); }, ErrorKind::kInvalidArgument,
                     {"invalid UTF-8"});
  o.search.mode = RetrievalMode::kDense;
  test::expect_error([&] { engine->match("music", o); }, ErrorKind::kInvalidArgument,
                     {"needs an embedding model"});
}

}  // namespace
}  // namespace skillmatch

namespace skillmatch {
namespace {

// `match` reranks as `rerank` does: with the skills' labels being the reference pairs' passages,
// the rerank logits of a match equal FlagEmbedding's (rerank_flagembedding.json) by default and
// the longest-first ones (rerank.json) with pair-truncation=longest-first.
TEST(Engine, MatchRerankReproducesTheReferenceScores) {
  test::TempDir dir;
  EngineOptions eo;
  eo.workspace = dir / "ws";
  eo.seed_defaults = false;
  Engine engine(eo);
  for (const auto& [file, rule] : std::vector<std::pair<std::string, std::string>>{
           {"rerank_flagembedding.json", "flagembedding"}, {"rerank.json", "longest-first"}}) {
    const auto cases = test::load_json(fixtures() / "expected" / file)["cases"];
    std::string csv = "uri,label\n";
    std::map<std::string, std::string> uri_of;
    for (const auto& c : cases) {
      const std::string p = c["passage"];
      if (uri_of.count(p) || p.find_first_of(",\"\n") != std::string::npos || p.empty()) continue;
      uri_of[p] = "p" + std::to_string(uri_of.size());
      csv += uri_of[p] + "," + p + "\n";
    }
    test::spit(dir / "passages.csv", csv);
    ImportRequest r;
    r.format = "custom";
    r.name = "passages";
    r.file = dir / "passages.csv";
    r.replace = true;
    engine.import(r);
    std::size_t checked = 0;
    for (const auto& c : cases) {
      if (c["max_length"] != 512 || !uri_of.count(c["passage"]) || c["query"] == "") continue;
      MatchOptions o = options("dense", true);
      o.search.candidates = uri_of.size();
      o.search.top = uri_of.size();
      match_option_table().set(o, "pair-truncation", rule);
      for (const MatchResult& m : engine.match(c["query"], o)) {
        if (m.skill.record.uri != uri_of[c["passage"]]) continue;
        EXPECT_NEAR(*m.rerank_logit, c["score"].get<double>(), 1e-4) << file;
        ++checked;
      }
    }
    EXPECT_GE(checked, 4u) << file;
  }
}

}  // namespace
}  // namespace skillmatch
