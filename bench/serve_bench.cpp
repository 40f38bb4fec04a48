// Load on `skillmatch serve` over loopback: N concurrent clients for a fixed time, a mix of
// /embed, /rerank and /v1/match requests. Prints requests/s, p50/p95/p99 per route, errors, and the
// server's resident memory after the warm-up and at the end. Run it twice, with dynamic batching
// and with `--no-batching` (each request runs its model work alone), to see what batching gains.
//
//   skillmatch_bench_serve --skillmatch build/skillmatch --workspace W --embedder M --reranker M
//                          [--clients 64] [--seconds 60] [--no-batching] [--dtype auto]
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * double(v.size())))];
}

const std::vector<std::string> kCourses = {
    "Grundlagen der Buchhaltung: doppelte Buchführung, Kontenrahmen und Jahresabschluss. Sie "
    "üben Buchungssätze und die Umsatzsteuer.",
    "Excel für Fortgeschrittene: Pivot-Tabellen, SVERWEIS, Diagramme und Makros für die "
    "Auswertung von Verkaufsdaten.",
    "Python für Einsteiger: Variablen, Schleifen, Funktionen und das Lesen von Dateien.",
    "Deutsch als Zweitsprache B1: Gespräche im Beruf führen, E-Mails schreiben und Texte "
    "verstehen.",
    "Projektmanagement kompakt: Ziele festlegen, Projektpläne erstellen, Risiken bewerten und "
    "Teams führen.",
    "Schweißen für die Praxis: MAG-Schweißen an Stahlblechen, Arbeitssicherheit und "
    "Werkstoffkunde.",
    "Erste Hilfe am Arbeitsplatz: Notruf, stabile Seitenlage, Herz-Lungen-Wiederbelebung.",
    "Online-Marketing: Suchmaschinenoptimierung, soziale Medien und Newsletter planen.",
};
const std::vector<std::string> kSkills = {"Buchführung",
                                          "Tabellenkalkulationssoftware verwenden",
                                          "Python",
                                          "Deutsch",
                                          "Projektmanagement",
                                          "Schweißgeräte bedienen",
                                          "Erste Hilfe leisten",
                                          "Online-Marketing",
                                          "im Team arbeiten",
                                          "Kunden beraten"};

struct Sample {
  std::string route;
  double ms = 0;
  bool ok = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"load on skillmatch serve"};
  std::string binary = "build/skillmatch", workspace, embedder, reranker, dtype = "auto";
  int clients = 64, seconds = 60, warmup = 5;
  bool no_batching = false, cache = false;
  app.add_option("--skillmatch", binary)->capture_default_str();
  app.add_option("--workspace", workspace)->required();
  app.add_option("--embedder", embedder)->required();
  app.add_option("--reranker", reranker)->required();
  app.add_option("--dtype", dtype)->capture_default_str();
  app.add_option("--clients", clients)->capture_default_str();
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_option("--warmup", warmup, "seconds of load before measuring")->capture_default_str();
  app.add_flag("--no-batching", no_batching);
  app.add_flag("--rerank-cache", cache,
               "keep the server's reranker score cache (off: every pair is scored)");
  CLI11_PARSE(app, argc, argv);

  const std::string log = workspace + ".serve.log";
  std::vector<std::string> args = {
      binary,   "serve",   "-w",  workspace, "-e", embedder,         "-r",
      reranker, "--dtype", dtype, "--port",  "0",  "--no-access-log"};
  if (no_batching) args.push_back("--no-batching");
  if (!cache) args.insert(args.end(), {"--rerank-cache", "0"});
  std::remove(log.c_str());
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stderr);
    std::vector<char*> c;
    for (auto& a : args) c.push_back(a.data());
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  int port = 0;
  const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 36000 && port == 0; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr, "the server stopped; see %s\n", log.c_str());
      return 1;
    }
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    std::smatch m;
    if (std::regex_search(text, m, listening)) port = std::stoi(m[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (int i = 0; i < 36000; ++i) {  // indexing may take minutes on first use
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/health");
    if (r && r->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("server pid %d on port %d, %s, %d clients, %d s (+%d s warm-up)\n", pid, port,
              no_batching ? "no batching" : "dynamic batching", clients, seconds, warmup);

  std::mutex mu;
  std::vector<Sample> samples;
  std::atomic<bool> measuring{false}, stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(300);
      c.set_keep_alive(true);
      std::vector<Sample> mine;
      for (std::size_t k = static_cast<std::size_t>(t); !stop; ++k) {
        const std::string& course = kCourses[k % kCourses.size()];
        std::string path;
        json body;
        switch (k % 3) {
          case 0:
            path = "/embed";
            body = {{"inputs", {course, kCourses[(k + 1) % kCourses.size()]}},
                    {"prompt_name", "query"},
                    {"truncate", true}};
            break;
          case 1:
            path = "/rerank";
            body = {{"query", course}, {"texts", kSkills}, {"truncate", true}};
            break;
          default:
            path = "/v1/match";
            body = {{"text", course}, {"top", 10}};
        }
        const auto t0 = Clock::now();
        auto r = c.Post(path, body.dump(), "application/json");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (measuring) mine.push_back({path, ms, r && r->status == 200});
        if (!r || r->status != 200) {
          std::fprintf(stderr, "%s: %s\n", path.c_str(),
                       r ? (std::to_string(r->status) + " " + r->body.substr(0, 200)).c_str()
                         : httplib::to_string(r.error()).c_str());
        }
      }
      const std::lock_guard<std::mutex> lock(mu);
      samples.insert(samples.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  const long rss_start = rss_kb(pid);
  measuring = true;
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const long rss_end = rss_kb(pid);
  stop = true;
  for (auto& th : threads) th.join();

  std::map<std::string, std::vector<double>> by_route;
  std::size_t errors = 0;
  for (const auto& s : samples) {
    if (!s.ok) ++errors;
    by_route[s.route].push_back(s.ms);
    by_route["all"].push_back(s.ms);
  }
  std::printf("%-12s %9s %9s %9s %9s %9s\n", "route", "requests", "req/s", "p50 ms", "p95 ms",
              "p99 ms");
  for (const auto& [route, v] : by_route) {
    std::printf("%-12s %9zu %9.1f %9.1f %9.1f %9.1f\n", route.c_str(), v.size(),
                double(v.size()) / elapsed, pct(v, 50), pct(v, 95), pct(v, 99));
  }
  std::printf("errors: %zu\nserver RSS: %.1f MB after warm-up, %.1f MB at the end (%+.1f%%)\n",
              errors, rss_start / 1024.0, rss_end / 1024.0,
              rss_start ? 100.0 * double(rss_end - rss_start) / double(rss_start) : 0.0);
  httplib::Client c("127.0.0.1", port);
  if (auto m = c.Get("/metrics")) {
    std::istringstream in(m->body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("skillmatch_batch_requests_sum", 0) == 0 ||
          line.rfind("skillmatch_batch_requests_count", 0) == 0 ||
          line.rfind("skillmatch_rerank_cache_total", 0) == 0) {
        std::printf("%s\n", line.c_str());
      }
    }
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::printf("server exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return errors == 0 ? 0 : 1;
}
