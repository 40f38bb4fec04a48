// The reports of an evaluation: text table, Markdown, JSON, TREC files, SVG chart.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "skillmatch/eval/evaluator.h"

namespace skillmatch {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string dataset_line(const EvalDataset& d) {
  std::ostringstream s;
  s << "dataset " << d.name << " (" << d.format << "): " << d.queries.size();
  if (d.limited_from) s << " of " << d.limited_from;
  s << " queries evaluated";
  if (d.skipped_queries) s << ", " << d.skipped_queries << " skipped (no positive resolved)";
  s << "; " << d.resolved_positives << " of " << d.positives << " positives resolved";
  if (!d.unresolved.empty()) s << ", " << d.unresolved.size() << " distinct unresolved";
  if (d.ambiguous_labels) s << ", " << d.ambiguous_labels << " labels naming several skills";
  return s.str();
}

// Rows of the comparison: metric name, one value per configuration, whether higher is better.
struct Row {
  std::string name;
  std::vector<double> values;
  bool higher_better = true;
  int digits = 4;
};

bool is_hit_rate(const std::string& metric) {
  return metric.rfind("hit_rate@", 0) == 0;
}

// The metrics rows leave out hit_rate@k, which repeats accuracy@k (a footnote says so).
std::vector<Row> rows(const std::vector<ConfigResult>& results) {
  std::vector<Row> out;
  if (results.empty()) return out;
  for (std::size_t m = 0; m < results[0].metrics.size(); ++m) {
    if (is_hit_rate(results[0].metrics[m].first)) continue;
    Row r{results[0].metrics[m].first, {}, true, 4};
    for (const auto& c : results) r.values.push_back(c.metrics[m].second);
    out.push_back(std::move(r));
  }
  Row p50{"latency p50 (ms)", {}, false, 1}, p95{"latency p95 (ms)", {}, false, 1};
  for (const auto& c : results) {
    p50.values.push_back(c.latency.p50_ms);
    p95.values.push_back(c.latency.p95_ms);
  }
  out.push_back(std::move(p50));
  out.push_back(std::move(p95));
  return out;
}

bool is_best(const Row& r, std::size_t i) {
  if (r.values.size() < 2) return false;
  const double best = r.higher_better ? *std::max_element(r.values.begin(), r.values.end())
                                      : *std::min_element(r.values.begin(), r.values.end());
  return fixed(r.values[i], r.digits) == fixed(best, r.digits);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// TREC ids must not contain white space.
std::string trec_id(std::string s) {
  for (char& c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = '_';
  }
  return s;
}

}  // namespace

std::string format_table(const EvalDataset& d, const std::vector<ConfigResult>& results) {
  const std::vector<Row> table = rows(results);
  std::size_t first = 16;
  for (const auto& r : table) first = std::max(first, r.name.size());
  std::vector<std::size_t> width;
  for (const auto& c : results) width.push_back(std::max<std::size_t>(9, c.name.size() + 1));
  std::ostringstream s;
  s << dataset_line(d) << "\n\n";
  s << std::string(first, ' ');
  for (std::size_t i = 0; i < results.size(); ++i) {
    s << "  " << std::string(width[i] - results[i].name.size(), ' ') << results[i].name;
  }
  s << "\n";
  for (const auto& r : table) {
    s << r.name << std::string(first - r.name.size(), ' ');
    for (std::size_t i = 0; i < r.values.size(); ++i) {
      const std::string v = fixed(r.values[i], r.digits) + (is_best(r, i) ? "*" : " ");
      s << "  " << std::string(width[i] + 1 > v.size() ? width[i] + 1 - v.size() : 0, ' ') << v;
    }
    s << "\n";
  }
  s << "(hit_rate@k = accuracy@k";
  if (results.size() > 1) s << "; * best of the row";
  s << ")\n";
  return s.str();
}

std::string format_markdown(const EvalDataset& d, const std::vector<ConfigResult>& results) {
  std::ostringstream s;
  s << "**" << dataset_line(d) << "**\n\n| metric |";
  for (const auto& c : results) s << " " << c.name << " |";
  s << "\n|---|";
  for (std::size_t i = 0; i < results.size(); ++i) s << "---:|";
  s << "\n";
  for (const auto& r : rows(results)) {
    s << "| " << r.name << " |";
    for (std::size_t i = 0; i < r.values.size(); ++i) {
      const std::string v = fixed(r.values[i], r.digits);
      s << " " << (is_best(r, i) ? "**" + v + "**" : v) << " |";
    }
    s << "\n";
  }
  s << "\nhit_rate@k equals accuracy@k (share of queries with a relevant skill in the top k).\n";
  for (const auto& c : results) {
    if (!c.description.empty()) s << "\n- `" << c.name << "`: " << c.description;
  }
  s << "\n";
  return s.str();
}

std::string format_json(const EvalDataset& d, const std::vector<ConfigResult>& results,
                        std::size_t depth) {
  nlohmann::ordered_json j;
  nlohmann::ordered_json ds;
  ds["name"] = d.name;
  ds["format"] = d.format;
  ds["lines"] = d.lines;
  ds["queries_evaluated"] = d.queries.size();
  if (d.limited_from) ds["queries_before_limit"] = d.limited_from;
  ds["queries_skipped"] = d.skipped_queries;
  ds["positives"] = d.positives;
  ds["positives_resolved"] = d.resolved_positives;
  ds["ambiguous_labels"] = d.ambiguous_labels;
  nlohmann::ordered_json un = nlohmann::ordered_json::array();
  for (const auto& u : d.unresolved) {
    un.push_back({{"value", u.value}, {"count", u.count}, {"first_seen", u.where}});
  }
  ds["unresolved"] = un;
  j["dataset"] = ds;
  j["depth"] = depth;
  nlohmann::ordered_json cs = nlohmann::ordered_json::array();
  for (const auto& c : results) {
    nlohmann::ordered_json cj;
    cj["name"] = c.name;
    cj["description"] = c.description;
    nlohmann::ordered_json m;
    for (const auto& [name, value] : c.metrics) m[name] = value;
    cj["metrics"] = m;
    cj["latency_ms"] = {{"mean", c.latency.mean_ms},
                        {"p50", c.latency.p50_ms},
                        {"p95", c.latency.p95_ms},
                        {"max", c.latency.max_ms}};
    cj["seconds"] = c.seconds;
    cs.push_back(cj);
  }
  j["configurations"] = cs;
  return j.dump(2) + "\n";
}

std::string format_trec_run(const EvalDataset& d, const ConfigResult& r,
                            const SkillResolver& resolver) {
  std::string out;
  const std::string tag = trec_id(r.name);
  char score[64];
  for (std::size_t q = 0; q < d.queries.size(); ++q) {
    const std::string qid = trec_id(d.queries[q].id);
    const auto& ranking = r.runs[q].ranking;
    for (std::size_t i = 0; i < ranking.size(); ++i) {
      std::snprintf(score, sizeof score, "%.9g", ranking[i].score);
      out += qid + " Q0 " + resolver.uri(ranking[i].skill_id) + " " + std::to_string(i + 1) + " " +
             score + " " + tag + "\n";
    }
  }
  return out;
}

std::string format_trec_qrels(const EvalDataset& d, const SkillResolver& resolver) {
  std::string out;
  for (const auto& q : d.queries) {
    for (std::int64_t id : q.relevant) out += trec_id(q.id) + " 0 " + resolver.uri(id) + " 1\n";
  }
  return out;
}

std::string format_svg(const EvalDataset& d, const std::vector<ConfigResult>& results) {
  static const char* kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                   "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
  // The metric rows of the table, without its latency rows.
  std::vector<Row> groups = rows(results);
  groups.erase(
      std::remove_if(groups.begin(), groups.end(), [](const Row& r) { return !r.higher_better; }),
      groups.end());
  const double bar = 14, gap = 18, left = 50, top = 60, plot_h = 260;
  const double group_w = bar * double(results.size()) + gap;
  const double width = left + group_w * double(groups.size()) + 20;
  const double height = top + plot_h + 90;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">" << xml_escape(d.name) << " ("
    << d.queries.size() << " queries)</text>\n";
  for (int t = 0; t <= 5; ++t) {
    const double y = top + plot_h - plot_h * t / 5.0;
    s << "<line x1=\"" << left << "\" x2=\"" << width - 20 << "\" y1=\"" << y << "\" y2=\"" << y
      << "\" stroke=\"#ddd\"/>\n";
    s << "<text x=\"" << left - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
      << fixed(t / 5.0, 1) << "</text>\n";
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double x0 = left + gap / 2 + group_w * double(g);
    for (std::size_t c = 0; c < groups[g].values.size(); ++c) {
      const double v = std::clamp(groups[g].values[c], 0.0, 1.0);
      const double h = plot_h * v;
      s << "<rect x=\"" << x0 + bar * double(c) << "\" y=\"" << top + plot_h - h << "\" width=\""
        << bar - 1 << "\" height=\"" << h << "\" fill=\"" << kColours[c % 8] << "\"><title>"
        << xml_escape(results[c].name) << " " << groups[g].name << " = "
        << fixed(groups[g].values[c], 4) << "</title></rect>\n";
    }
    const double cx = x0 + bar * double(results.size()) / 2;
    s << "<text transform=\"translate(" << cx << "," << top + plot_h + 12 << ") rotate(40)\">"
      << xml_escape(groups[g].name) << "</text>\n";
  }
  for (std::size_t c = 0; c < results.size(); ++c) {
    const double x = left + 160 * double(c % 4), y = 34 + 14 * double(c / 4);
    s << "<rect x=\"" << x << "\" y=\"" << y - 9 << "\" width=\"10\" height=\"10\" fill=\""
      << kColours[c % 8] << "\"/><text x=\"" << x + 14 << "\" y=\"" << y << "\">"
      << xml_escape(results[c].name) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace skillmatch
