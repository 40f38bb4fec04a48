// eval: the metrics of the model cards for one or several retrieval configurations on a dataset.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "jsonl.h"
#include "pipeline.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"
#include "skillmatch/eval/dataset.h"
#include "skillmatch/eval/evaluator.h"
#include "skillmatch/index/indexer.h"
#include "skillmatch/search/matcher.h"

namespace fs = std::filesystem;

namespace skillmatch::cli {
namespace {

// One configuration as given on the command line: "name=x,mode=hybrid,reranker=DIR,...".
struct ConfigSpec {
  std::string name, mode, fusion, embedder, reranker, passage_template, rerank_template, dtype;
  double dense_weight = 0.5, rrf_k = 60;
  std::string bm25_weights = "3,2,1";
  bool ann = false;
  int ef_search = 128;
};

double number(const std::string& key, const std::string& v) {
  try {
    std::size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  throw Error(ErrorKind::kInvalidArgument, "--config: " + key + "=" + v + " is not a number");
}

// Splits at commas that start a new key=value pair, so that values (templates) may hold commas.
ConfigSpec parse_spec(const std::string& text, const ConfigSpec& defaults) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    while (comma != std::string::npos) {
      const std::size_t next_comma = text.find(',', comma + 1);
      const std::size_t eq = text.find('=', comma + 1);
      if (eq != std::string::npos && eq < next_comma) break;  // ",key=" starts a pair
      comma = next_comma;
    }
    parts.push_back(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  ConfigSpec s = defaults;
  s.name.clear();
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    const std::size_t eq = p.find('=');
    SM_CHECK(eq != std::string::npos, ErrorKind::kInvalidArgument,
             "--config '" + text + "': '" + p + "' is not key=value");
    const std::string k = p.substr(0, eq), v = p.substr(eq + 1);
    if (k == "name") {
      s.name = v;
    } else if (k == "mode") {
      SM_CHECK(v == "dense" || v == "bm25" || v == "hybrid", ErrorKind::kInvalidArgument,
               "--config: mode must be dense, bm25 or hybrid, not '" + v + "'");
      s.mode = v;
    } else if (k == "fusion") {
      SM_CHECK(v == "rrf" || v == "weighted", ErrorKind::kInvalidArgument,
               "--config: fusion must be rrf or weighted, not '" + v + "'");
      s.fusion = v;
    } else if (k == "embedder") {
      s.embedder = v;
    } else if (k == "reranker") {
      s.reranker = v == "none" ? "" : v;
    } else if (k == "template") {
      s.passage_template = v;
    } else if (k == "rerank-template") {
      s.rerank_template = v;
    } else if (k == "dtype") {
      s.dtype = v;
    } else if (k == "dense-weight") {
      s.dense_weight = number(k, v);
    } else if (k == "ann") {
      SM_CHECK(v == "hnsw" || v == "exact", ErrorKind::kInvalidArgument,
               "--config: ann must be hnsw or exact, not '" + v + "'");
      s.ann = v == "hnsw";
    } else if (k == "ef-search") {
      s.ef_search = static_cast<int>(number(k, v));
      SM_CHECK(s.ef_search >= 1, ErrorKind::kInvalidArgument, "--config: ef-search must be >= 1");
    } else if (k == "bm25-weights") {
      parse_bm25_weights(v);  // checked here, used below
      s.bm25_weights = v;
    } else if (k == "rrf-k") {
      s.rrf_k = number(k, v);
    } else {
      throw Error(ErrorKind::kInvalidArgument,
                  "--config: unknown key '" + k +
                      "' (name, mode, fusion, embedder, reranker, template, rerank-template, "
                      "dtype, dense-weight, rrf-k, bm25-weights, ann, ef-search)");
    }
  }
  if (s.mode.empty()) s.mode = s.embedder.empty() ? "bm25" : "hybrid";
  SM_CHECK(s.mode == "bm25" || !s.embedder.empty(), ErrorKind::kInvalidArgument,
           "--config '" + text + "': mode " + s.mode + " needs an embedder");
  if (s.name.empty()) {
    s.name = s.mode;
    if (s.mode == "hybrid" && s.fusion == "weighted") s.name += "-weighted";
    if (!s.reranker.empty()) s.name += "+rerank";
  }
  return s;
}

std::string describe(const ConfigSpec& s) {
  std::string d = s.mode;
  if (s.mode == "hybrid") d += " (" + s.fusion + ")";
  if (s.mode != "dense") d += ", BM25 weights " + s.bm25_weights;
  if (s.mode != "bm25" && s.ann) d += ", HNSW efSearch " + std::to_string(s.ef_search);
  if (s.mode != "bm25")
    d += ", embedder " + s.embedder + ", passages \"" + s.passage_template + "\"";
  if (!s.reranker.empty()) d += ", reranker " + s.reranker + " on \"" + s.rerank_template + "\"";
  return d;
}

std::string file_name(const std::string& name) {
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
            c == '_')
               ? c
               : '_';
  return out;
}

void write_text(const fs::path& path, const std::string& text) {
  write_file_atomic(path, [&](std::FILE* f) { write_all(f, text); });
}

struct EvalCommand {
  std::string workspace = default_workspace();
  std::string dataset;
  DatasetOptions data_options;
  std::string format = "auto";
  std::vector<std::string> specs;
  ConfigSpec defaults{"", "", "rrf", "", "", kDefaultPassageTemplate, "{label}", "auto"};
  SkillFilter filter;
  MetricCutoffs cutoffs;
  std::size_t depth = 0, limit = 0;
  std::string out_dir;
  bool json = false;

  void run() {
    cutoffs.validate();
    if (!out_dir.empty()) check_out_dir();
    data_options.format = parse_dataset_format(format);
    Workspace ws = open_workspace(workspace);
    const std::vector<Skill> corpus = ws.skills(filter);
    SM_CHECK(!corpus.empty(), ErrorKind::kInvalidArgument,
             "the workspace " + workspace + " has no skills that pass the filter");
    const SkillResolver resolver(corpus, data_options.positive_template);
    EvalDataset data = load_dataset(dataset, resolver, data_options);
    report_unresolved(data);
    if (limit > 0 && data.queries.size() > limit) {
      data.limited_from = data.queries.size();
      data.queries.resize(limit);
    }

    if (specs.empty()) specs.push_back("");
    std::vector<ConfigSpec> parsed;
    std::map<std::string, int> seen;
    for (const auto& text : specs) {
      ConfigSpec s = parse_spec(text, defaults);
      if (++seen[s.name] > 1) s.name += "#" + std::to_string(seen[s.name]);
      parsed.push_back(std::move(s));
    }
    // Models are loaded once however many configurations use them.
    std::map<std::string, std::unique_ptr<Pipeline>> dense, rerankers;
    std::vector<std::unique_ptr<Matcher>> matchers;
    std::vector<EvalConfig> configs;
    for (const ConfigSpec& s : parsed) {
      const BiEncoder* enc = nullptr;
      const AnnIndex* ann = nullptr;
      const VectorStore* vec = nullptr;
      const CrossEncoder* ce = nullptr;
      if (s.mode != "bm25") {
        auto& p = dense[s.embedder + "\n" + s.passage_template + "\n" + s.dtype];
        if (!p) {
          p = std::make_unique<Pipeline>(
              load_pipeline(ws, s.embedder, "", s.passage_template, s.dtype));
        }
        if (s.ann && !p->ann) p->ann = load_ann(ws, p->vectors->identity(), s.embedder);
        enc = p->encoder.get();
        vec = p->vectors.get();
        ann = s.ann ? p->ann.get() : nullptr;
      }
      if (!s.reranker.empty()) {
        auto& p = rerankers[s.reranker + "\n" + s.dtype];
        if (!p) p = std::make_unique<Pipeline>(load_pipeline(ws, "", s.reranker, "", s.dtype));
        ce = p->reranker.get();
      }
      matchers.push_back(std::make_unique<Matcher>(ws, enc, vec, ce));
      if (ann) matchers.back()->use_ann(ann);
      EvalConfig c;
      c.name = s.name;
      c.description = describe(s);
      c.matcher = matchers.back().get();
      c.options.mode = parse_mode(s.mode);
      c.options.fusion = parse_fusion(s.fusion);
      c.options.dense_weight = s.dense_weight;
      c.options.rrf_k = s.rrf_k;
      c.options.rerank = ce != nullptr;
      c.options.rerank_template = s.rerank_template;
      c.options.filter = filter;
      c.options.ann = ann != nullptr;
      c.options.ef_search = s.ef_search;
      c.options.bm25_weights = parse_bm25_weights(s.bm25_weights);
      configs.push_back(std::move(c));
    }
    ProgressBar bar;
    bar.what = "evaluating";
    const std::size_t d = depth ? depth : cutoffs.max_k();
    const std::vector<ConfigResult> results = evaluate(data, configs, cutoffs, d, std::ref(bar));

    if (json) {
      std::cout << format_json(data, results, d);
    } else {
      std::cout << format_table(data, results);
    }
    if (!out_dir.empty()) {
      const fs::path dir(out_dir);
      std::error_code ec;
      fs::create_directories(dir, ec);
      SM_CHECK(!ec, ErrorKind::kIo,
               "cannot create the output folder " + out_dir + ": " + ec.message());
      write_text(dir / "metrics.json", format_json(data, results, d));
      write_text(dir / "metrics.md", format_markdown(data, results));
      write_text(dir / "metrics.svg", format_svg(data, results));
      write_text(dir / "qrels.txt", format_trec_qrels(data, resolver));
      for (const auto& r : results) {
        write_text(dir / (file_name(r.name) + ".run"), format_trec_run(data, r, resolver));
      }
      note("wrote metrics.json, metrics.md, metrics.svg, qrels.txt and " +
           std::to_string(results.size()) + " TREC run file(s) to " + out_dir);
    }
  }

  // Before the (possibly long) evaluation, without creating anything yet: the output folder
  // must be a folder or be creatable below an existing folder.
  void check_out_dir() const {
    fs::path p = fs::absolute(out_dir);
    while (!p.empty() && !fs::exists(p) && p != p.parent_path()) p = p.parent_path();
    SM_CHECK(fs::is_directory(p), ErrorKind::kIo,
             "cannot use " + out_dir + " as the output folder: " + p.string() + " is not a folder");
  }

  static void report_unresolved(const EvalDataset& data) {
    if (data.unresolved.empty()) return;
    std::size_t mentions = 0;
    for (const auto& u : data.unresolved) mentions += u.count;
    std::string s = std::to_string(mentions) +
                    " positive(s) did not resolve to a skill of the "
                    "workspace (" +
                    std::to_string(data.unresolved.size()) + " distinct):";
    for (std::size_t i = 0; i < data.unresolved.size() && i < 10; ++i) {
      s += "\n  '" + data.unresolved[i].value + "' x" + std::to_string(data.unresolved[i].count) +
           " (first at " + data.unresolved[i].where + ")";
    }
    if (data.unresolved.size() > 10) s += "\n  ... (all are listed in metrics.json with --out)";
    note(s);
    if (data.skipped_queries) {
      note(std::to_string(data.skipped_queries) +
           " query(ies) skipped: none of their positives resolved");
    }
  }
};

}  // namespace

void add_eval_command(CLI::App& app) {
  auto cmd = std::make_shared<EvalCommand>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Evaluate retrieval configurations on a dataset (metrics of the model cards)");
  add_workspace_option(*sub, cmd->workspace);
  sub->add_option("dataset", cmd->dataset,
                  "triples .jsonl, labels .csv (text,label) or a BEIR folder")
      ->required();
  sub->add_option("--format", cmd->format, "auto, triples, beir or labels")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "triples", "beir", "labels"}));
  sub->add_option("--split", cmd->data_options.beir_split, "BEIR qrels split")
      ->capture_default_str();
  sub->add_option("--text-column", cmd->data_options.text_column)->capture_default_str();
  sub->add_option("--label-column", cmd->data_options.label_column)->capture_default_str();
  sub->add_option("--positive-template", cmd->data_options.positive_template,
                  "how positives given as skill text render a skill (after URI and label)")
      ->capture_default_str();
  add_repeatable(*sub, "-c,--config", cmd->specs,
                 "a configuration: name=...,mode=dense|bm25|hybrid,fusion=rrf|weighted,"
                 "embedder=...,reranker=...,template=...,rerank-template=...,dtype=...,"
                 "dense-weight=...,rrf-k=...,bm25-weights=L,A,D,ann=hnsw|exact,ef-search=N "
                 "(repeatable; unset keys take "
                 "the options below)");
  sub->add_option("-e,--embedder", cmd->defaults.embedder, "default bi-encoder");
  sub->add_option("-r,--reranker", cmd->defaults.reranker, "default cross-encoder");
  sub->add_option("--mode", cmd->defaults.mode,
                  "default retrieval (hybrid with an embedder, else bm25)")
      ->check(CLI::IsMember({"dense", "bm25", "hybrid"}));
  sub->add_option("--fusion", cmd->defaults.fusion)
      ->capture_default_str()
      ->check(CLI::IsMember({"rrf", "weighted"}));
  sub->add_option("--template", cmd->defaults.passage_template, "passage template the index used")
      ->capture_default_str();
  sub->add_option("--rerank-template", cmd->defaults.rerank_template)->capture_default_str();
  sub->add_option("--dtype", cmd->defaults.dtype)->capture_default_str();
  sub->add_option("--bm25-weights", cmd->defaults.bm25_weights,
                  "BM25 weights of label, alternative labels, description; 0 leaves a field out")
      ->capture_default_str();
  add_filter_options(*sub, cmd->filter);  // the corpus
  auto ks = [&](const char* name, std::vector<std::size_t>& v) {
    sub->add_option(name, v)->delimiter(',')->capture_default_str();
  };
  ks("--accuracy-at", cmd->cutoffs.accuracy);
  ks("--precision-recall-at", cmd->cutoffs.precision_recall);
  ks("--mrr-at", cmd->cutoffs.mrr);
  ks("--ndcg-at", cmd->cutoffs.ndcg);
  ks("--map-at", cmd->cutoffs.map);
  sub->add_option("--depth", cmd->depth,
                  "ranking length = candidates retrieved and reranked (default: largest k)");
  sub->add_option("--limit", cmd->limit, "evaluate only the first N queries");
  sub->add_option("-o,--out", cmd->out_dir,
                  "folder for metrics.json/.md/.svg, qrels.txt and one TREC run file per "
                  "configuration");
  sub->add_flag("--json", cmd->json, "print JSON instead of the table");
  sub->callback([cmd] { cmd->run(); });
}

}  // namespace skillmatch::cli
