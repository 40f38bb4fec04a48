// pull, import, taxonomies, groups, index, match: the commands over a workspace.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "commands.h"
#include "io_options.h"
#include "jsonl.h"
#include "pipeline.h"
#include "skillmatch/catalog/taxonomy_import.h"
#include "skillmatch/catalog/workspace.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/utf8.h"
#include "skillmatch/hub/hub_download.h"
#include "skillmatch/hub/model_hub.h"
#include "skillmatch/index/indexer.h"
#include "skillmatch/model/bi_encoder.h"
#include "skillmatch/model/cross_encoder.h"
#include "skillmatch/search/matcher.h"

namespace fs = std::filesystem;

namespace skillmatch::cli {
namespace {

// ------------------------------------------------------------------------------ import
struct ImportCommand {
  std::string workspace = default_workspace();
  std::string format;
  std::string file;
  std::string name;
  std::string language = "de";
  std::string version;
  std::vector<std::string> collections;
  std::string hierarchy, groups;  // ESCO broaderRelationsSkillPillar and skillGroups CSVs
  ColumnMapping mapping;

  void run() const {
    Workspace ws = Workspace::open(workspace, true);
    TaxonomyData d;
    std::vector<std::pair<std::string, std::vector<std::string>>> zip_collections;
    if (format == "esco" && fs::path(file).extension() == ".zip") {
      EscoExport e =
          read_esco_export(file, name.empty() ? "esco-" + language : name, version, language);
      d = std::move(e.taxonomy);
      zip_collections = std::move(e.collections);
    } else if (format == "esco") {
      d = read_esco_skills(file, name.empty() ? "esco-" + language : name, version, language);
    } else if (format == "greta") {
      d = read_greta(file);
      if (!name.empty()) d.info.name = name;
    } else if (format == "defaults") {
      import_shipped(ws);
      return;
    } else {
      SM_CHECK(!name.empty(), ErrorKind::kInvalidArgument, "a custom taxonomy needs --name");
      d = read_custom_taxonomy(file, name, mapping);
      d.info.version = version;
      d.info.language = language;
    }
    SM_CHECK(hierarchy.empty() == groups.empty(), ErrorKind::kInvalidArgument,
             "--hierarchy and --groups go together (ESCO's broaderRelationsSkillPillar and "
             "skillGroups CSV files)");
    if (!hierarchy.empty()) {
      d.groups.clear();
      d.links.clear();
      read_esco_hierarchy(hierarchy, groups, d);
    }
    const ImportStats s = import_with_hierarchy(ws, d);
    std::cout << d.info.name << ": " << s.added << " added, " << s.updated << " updated, "
              << s.unchanged << " unchanged, " << s.removed << " removed\n";
    if (!d.groups.empty() || !d.links.empty()) {
      std::cout << "hierarchy: " << d.groups.size() << " groups, " << d.links.size()
                << " broader links\n";
    }
    for (const auto& [cname, uris] : zip_collections) {
      const std::size_t n = ws.set_collection(d.info.name, cname, uris);
      std::cout << "collection " << cname << ": " << n << " of " << uris.size() << " skills\n";
    }
    for (const auto& c : collections) {
      const auto uris = read_esco_collection(c);
      const std::size_t n = ws.set_collection(d.info.name, esco_collection_name(c), uris);
      std::cout << "collection " << esco_collection_name(c) << ": " << n << " of " << uris.size()
                << " skills\n";
    }
  }
};

// ------------------------------------------------------------------------------ index
struct IndexCommand {
  std::string workspace = default_workspace();
  std::string embedder;
  std::string passage_template = kDefaultPassageTemplate;
  std::string dtype = "auto";
  std::size_t batch_size = 32;
  bool ann = false;
  AnnOptions ann_options;

  void run() const {
    Workspace ws = open_workspace(workspace);
    const fs::path dir = resolve_model(embedder);
    const BiEncoder enc = BiEncoder::load(dir, inference(dtype, batch_size));
    const VectorIdentity id = vector_identity(enc, embedder, dir, passage_template);
    ProgressBar bar;
    bar.what = "indexing";
    const IndexStats s = index_skills(ws, enc, id, std::ref(bar));
    std::cout << s.skills << " skills: " << s.embedded << " embedded, " << s.reused
              << " already indexed (" << vector_file(ws, id).filename().string() << ")\n";
    if (!ann) return;
    const VectorStore vectors = VectorStore::open(vector_file(ws, id), id, false);
    Matcher matcher(ws, &enc, &vectors, nullptr);
    if (fs::exists(ann_file(ws, id))) {
      try {
        const AnnIndex current = AnnIndex::load(ann_file(ws, id));
        matcher.use_ann(&current);
        std::cout << "approximate index up to date (" << ann_file(ws, id).filename().string()
                  << ")\n";
        return;
      } catch (const Error&) {
        // stale or damaged: rebuilt below
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    matcher.build_ann(ann_options).save(ann_file(ws, id));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("approximate index: HNSW M=%d efConstruction=%d over %zu skills in %.1f s (%s)\n",
                ann_options.m, ann_options.ef_construction, s.skills, secs,
                ann_file(ws, id).filename().string().c_str());
  }
};

// ------------------------------------------------------------------------------ match
struct MatchCommand {
  std::string workspace = default_workspace();
  std::string text;
  bool jsonl = false;
  IoOptions io;
  std::string embedder, reranker;
  std::string passage_template = kDefaultPassageTemplate;
  std::string mode = "hybrid", fusion = "rrf";
  std::string dtype = "auto";
  bool json = false, no_rerank = false;
  MatchOptions options;

  void run() {
    Workspace ws = open_workspace(workspace);
    const Pipeline p = load_pipeline(ws, embedder, no_rerank ? "" : reranker, passage_template,
                                     dtype, options.ann);
    options.mode = parse_mode(mode);
    options.fusion = parse_fusion(fusion);
    if (!p.encoder && options.mode != RetrievalMode::kBm25) {
      note(
          "no embedding model given: matching by BM25 only. For the neural pipeline run "
          "`skillmatch pull` for isy-thl/multilingual-e5-base-course-skill-tuned and "
          "isy-thl/bge-reranker-base-course-skill-tuned, then `skillmatch index --embedder "
          "MODEL`, and pass --embedder and --reranker");
      options.mode = RetrievalMode::kBm25;
    }
    Matcher matcher(ws, p.encoder.get(), p.vectors.get(), p.reranker.get());
    if (p.ann) matcher.use_ann(p.ann.get());

    if (jsonl) {
      io.run([&](std::istream& in, const std::string& name, std::FILE* f) {
        JsonlReader reader(in, name);
        std::vector<std::vector<MatchResult>> results;
        run_chunked<std::string>(
            reader, f, 64,
            [](const nlohmann::json& rec) {
              std::string t = JsonlReader::require_string(rec, "text");
              validate_utf8(t);
              return t;
            },
            [&](const std::vector<std::string>& texts) {
              results = matcher.match_batch(texts, options);
            },
            [&](std::size_t i, std::string& out) {
              out += "\"results\":";
              out += to_json(results[i]).dump();
            });
      });
      return;
    }
    std::string input = text;
    if (input.empty()) {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      input = ss.str();
    }
    SM_CHECK(input.find_first_not_of(" \t\r\n") != std::string::npos, ErrorKind::kInvalidArgument,
             "no course text given (pass it as an argument or on stdin)");
    SM_CHECK(input.size() <= (1u << 20), ErrorKind::kInvalidArgument,
             "the course text is longer than 1 MiB");
    const auto results = matcher.match(input, options);
    if (json) {
      nlohmann::ordered_json j;
      j["mode"] = mode_name();
      j["results"] = to_json(results);
      std::cout << j.dump(2) << "\n";
    } else {
      print_table(results);
    }
  }

  std::string mode_name() const {
    return options.mode == RetrievalMode::kDense  ? "dense"
           : options.mode == RetrievalMode::kBm25 ? "bm25"
                                                  : "hybrid";
  }

  static nlohmann::ordered_json to_json(const std::vector<MatchResult>& results) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json j;
      j["rank"] = r.rank;
      j["taxonomy"] = r.skill.taxonomy;
      j["uri"] = r.skill.record.uri;
      j["label"] = r.skill.record.label;
      j["score"] = r.score;
      nlohmann::ordered_json s;
      if (r.cosine) s["cosine"] = *r.cosine;
      if (r.bm25) s["bm25"] = *r.bm25;
      if (r.fused) s["fused"] = *r.fused;
      if (r.rerank_logit) s["rerank_logit"] = *r.rerank_logit;
      if (r.rerank_sigmoid) s["rerank_sigmoid"] = *r.rerank_sigmoid;
      j["scores"] = s;
      arr.push_back(j);
    }
    return arr;
  }

  static void print_table(const std::vector<MatchResult>& results) {
    if (results.empty()) {
      std::cout << "no matching skills\n";
      return;
    }
    auto num = [](const auto& v, const char* fmt) {
      if (!v) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, fmt, double(*v));
      return std::string(buf);
    };
    std::printf("%3s  %7s  %7s  %7s  %7s  %8s  %-8s  %s\n", "#", "score", "rerank", "cosine",
                "bm25", "fused", "taxonomy", "skill");
    for (const auto& r : results) {
      std::printf("%3zu  %7.4f  %7s  %7s  %7s  %8s  %-8s  %s\n", r.rank, r.score,
                  num(r.rerank_logit, "%.3f").c_str(), num(r.cosine, "%.4f").c_str(),
                  num(r.bm25, "%.2f").c_str(), num(r.fused, "%.5f").c_str(),
                  r.skill.taxonomy.c_str(), r.skill.record.label.c_str());
    }
  }
};

// ------------------------------------------------------------------------------ groups
struct GroupsCommand {
  std::string workspace = default_workspace();
  std::vector<std::string> taxonomies;
  std::string under;

  void run() const {
    Workspace ws = open_workspace(workspace);
    SkillFilter f;
    f.taxonomies = taxonomies;
    const auto all = ws.groups(f);
    if (all.empty()) {
      std::cout << "no skill groups (import a taxonomy with its hierarchy)\n";
      return;
    }
    // The groups --under names, as (taxonomy, URI).
    std::set<std::pair<std::string, std::string>> parents;
    for (const auto& g : all) {
      if (g.group.code == under || g.group.uri == under || g.group.label == under) {
        parents.insert({g.taxonomy, g.group.uri});
      }
    }
    SM_CHECK(under.empty() || !parents.empty(), ErrorKind::kInvalidArgument,
             "no skill group '" + under + "' (give a code, URI or label from `skillmatch groups`)");
    for (const auto& g : all) {
      // Top level only, unless --under: then the groups directly below it.
      const bool listed = under.empty()
                              ? g.broader.empty()
                              : std::any_of(g.broader.begin(), g.broader.end(), [&](const auto& b) {
                                  return parents.count({g.taxonomy, b}) > 0;
                                });
      if (!listed) continue;
      std::cout << g.taxonomy << "\t" << (g.group.code.empty() ? "-" : g.group.code) << "\t"
                << g.skills << " skills\t" << g.group.label << "\t" << g.group.uri << "\n";
    }
  }
};

// ------------------------------------------------------------------------------ taxonomies
struct TaxonomiesCommand {
  std::string workspace = default_workspace();
  void run() const {
    Workspace ws = open_workspace(workspace);
    for (const auto& t : ws.taxonomies()) {
      SkillFilter f;
      f.taxonomies = {t.name};
      std::cout << t.name << "\t" << ws.skill_count(f) << " skills\t" << t.title
                << (t.version.empty() ? "" : " " + t.version) << "\t" << t.attribution << "\n";
    }
  }
};

}  // namespace

void add_catalog_commands(CLI::App& app) {
  {
    auto opts = std::make_shared<PullOptions>();
    auto id = std::make_shared<std::string>();
    CLI::App* sub = app.add_subcommand(
        "pull", "Download a model from the Hugging Face Hub into the Hugging Face cache");
    sub->add_option("model", *id, "Hub id, e.g. isy-thl/bge-reranker-base-course-skill-tuned")
        ->required();
    sub->add_option("--revision", opts->revision, "branch, tag or commit")->capture_default_str();
    sub->add_option("--endpoint", opts->endpoint,
                    "Hub URL (default $HF_ENDPOINT or huggingface.co)");
    sub->callback([opts, id] {
      auto bar = std::make_shared<ProgressBar>();
      std::string current;
      opts->progress = [bar, current](const std::string& file, std::uint64_t done,
                                      std::uint64_t total) mutable {
        if (file != current) {
          current = file;
          *bar = ProgressBar{};
          bar->what = file;
        }
        (*bar)(static_cast<std::size_t>(done), static_cast<std::size_t>(total));
      };
      const PullResult r = pull_model(*id, *opts);
      std::cout << r.snapshot.string() << "\n";
      note(std::to_string(r.files) + " files, " + std::to_string(r.bytes_downloaded) +
           " bytes downloaded (commit " + r.commit + ")");
    });
  }
  {
    auto cmd = std::make_shared<ImportCommand>();
    CLI::App* sub = app.add_subcommand("import", "Import or update a taxonomy in the workspace");
    add_workspace_option(*sub, cmd->workspace);
    sub->add_option("format", cmd->format, "esco, greta, custom, or defaults (the shipped data)")
        ->required()
        ->check(CLI::IsMember({"esco", "greta", "custom", "defaults"}));
    sub->add_option("file", cmd->file,
                    "CSV file, JSON Lines for custom, or ESCO's official .zip export");
    sub->add_option("--name", cmd->name, "taxonomy name (default esco-<language>, greta)");
    sub->add_option("--language", cmd->language, "ESCO column language")->capture_default_str();
    sub->add_option("--version", cmd->version, "version to record");
    add_repeatable(*sub, "--collection", cmd->collections, "ESCO collection CSV file to attach");
    sub->add_option("--hierarchy", cmd->hierarchy,
                    "ESCO broaderRelationsSkillPillar CSV (with --groups): the skill hierarchy");
    sub->add_option("--groups", cmd->groups, "ESCO skillGroups_<lang>.csv (with --hierarchy)");
    sub->add_option("--uri-column", cmd->mapping.uri)->capture_default_str();
    sub->add_option("--label-column", cmd->mapping.label)->capture_default_str();
    sub->add_option("--description-column", cmd->mapping.description)->capture_default_str();
    sub->add_option("--alt-labels-column", cmd->mapping.alt_labels)->capture_default_str();
    sub->add_option("--skill-type-column", cmd->mapping.skill_type)->capture_default_str();
    sub->add_option("--alt-separator", cmd->mapping.alt_separator)->capture_default_str();
    sub->callback([cmd] {
      SM_CHECK(cmd->format == "defaults" || !cmd->file.empty(), ErrorKind::kInvalidArgument,
               "import " + cmd->format + " needs a file");
      cmd->run();
    });
  }
  {
    auto cmd = std::make_shared<TaxonomiesCommand>();
    CLI::App* sub = app.add_subcommand("taxonomies", "List the taxonomies of the workspace");
    add_workspace_option(*sub, cmd->workspace);
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<GroupsCommand>();
    CLI::App* sub = app.add_subcommand(
        "groups", "List the skill groups of the hierarchy (top level, or those under a group)");
    add_workspace_option(*sub, cmd->workspace);
    add_repeatable(*sub, "--taxonomy", cmd->taxonomies, "only this taxonomy");
    sub->add_option("--under", cmd->under, "the groups directly below this code, URI or label");
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<IndexCommand>();
    CLI::App* sub = app.add_subcommand(
        "index", "Embed every skill of the workspace (resumable; only new or changed skills)");
    add_workspace_option(*sub, cmd->workspace);
    sub->add_option("-e,--embedder", cmd->embedder, "bi-encoder folder or Hugging Face id")
        ->required();
    sub->add_option("--template", cmd->passage_template,
                    "passage text: {label} {description} {alt_labels} {uri} {taxonomy}")
        ->capture_default_str();
    sub->add_option("--dtype", cmd->dtype)->capture_default_str();
    sub->add_option("--batch-size", cmd->batch_size)->capture_default_str();
    sub->add_flag("--ann", cmd->ann,
                  "also build the approximate (FAISS HNSW) index that match --ann uses");
    sub->add_option("--ann-m", cmd->ann_options.m, "HNSW graph degree")->capture_default_str();
    sub->add_option("--ann-ef-construction", cmd->ann_options.ef_construction)
        ->capture_default_str();
    sub->callback([cmd] { cmd->run(); });
  }
  {
    auto cmd = std::make_shared<MatchCommand>();
    CLI::App* sub = app.add_subcommand("match", "The skills a course text teaches, ranked");
    add_workspace_option(*sub, cmd->workspace);
    sub->add_option("text", cmd->text, "course text (default: stdin)");
    sub->add_flag("--jsonl", cmd->jsonl,
                  "many texts as JSON Lines {\"id\", \"text\"} on stdin/--input, results as "
                  "JSON Lines");
    cmd->io.add_to(*sub);
    sub->add_option("-e,--embedder", cmd->embedder, "bi-encoder folder or Hugging Face id");
    sub->add_option("-r,--reranker", cmd->reranker, "cross-encoder folder or Hugging Face id");
    sub->add_option("--template", cmd->passage_template, "passage template the index used")
        ->capture_default_str();
    sub->add_option("--mode", cmd->mode, "dense, bm25 or hybrid")
        ->capture_default_str()
        ->check(CLI::IsMember({"dense", "bm25", "hybrid"}));
    sub->add_option("--fusion", cmd->fusion, "hybrid fusion: rrf or weighted")
        ->capture_default_str()
        ->check(CLI::IsMember({"rrf", "weighted"}));
    sub->add_option("--dense-weight", cmd->options.dense_weight, "weighted fusion: dense share")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    sub->add_option("--candidates", cmd->options.candidates, "retrieved and reranked")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
    sub->add_option("--top", cmd->options.top, "at most this many results")->capture_default_str();
    sub->add_option_function<double>(
        "--threshold", [cmd](const double& v) { cmd->options.threshold = v; },
        "minimum final score (the reranker's sigmoid, else the retrieval score)");
    sub->add_flag("--gap", cmd->options.cut_at_largest_gap, "cut at the largest score gap");
    sub->add_option_function<std::string>(
           "--bm25-weights",
           [cmd](const std::string& v) { cmd->options.bm25_weights = parse_bm25_weights(v); },
           "BM25 weights of label, alternative labels, description; 0 leaves a field out")
        ->default_str("3,2,1");
    sub->add_flag("--no-rerank", cmd->no_rerank, "skip the cross-encoder");
    sub->add_flag("--ann", cmd->options.ann,
                  "dense retrieval through the approximate index (`index --ann`) instead of "
                  "the exact scan");
    sub->add_option("--ef-search", cmd->options.ef_search, "HNSW search breadth with --ann")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    sub->add_option("--rerank-template", cmd->options.rerank_template,
                    "what the cross-encoder sees of a skill")
        ->capture_default_str();
    add_filter_options(*sub, cmd->options.filter);
    sub->add_option("--dtype", cmd->dtype)->capture_default_str();
    sub->add_flag("--json", cmd->json, "JSON instead of a table");
    sub->callback([cmd] { cmd->run(); });
  }
}

}  // namespace skillmatch::cli
