// Running the skillmatch binary as a user runs it: arguments, stdin, environment; the exit code,
// stdout, stderr and peak memory.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace skillmatch::test {

struct Result {
  int rc = -1;
  std::string out, err;
  long max_rss_kb = 0;  // peak resident memory of the process
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the skillmatch binary with `args`, feeding `input` on stdin; waits for it with wait4 to
// learn its peak memory.
inline Result run(const std::vector<std::string>& args, const std::string& input = "",
                  const std::vector<std::pair<std::string, std::string>>& env = {}) {
  test::TempDir dir;
  const auto in = dir / "stdin", out = dir / "stdout", err = dir / "stderr";
  test::spit(in, input);
  std::string cmd;
  for (const auto& [k, v] : env) cmd += k + "=" + quote(v) + " ";
  cmd += "exec " + quote(SKILLMATCH_CLI);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " < " + quote(in.string()) + " > " + quote(out.string()) + " 2> " + quote(err.string());
  Result r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (pid < 0 || ::wait4(pid, &status, 0, &usage) != pid) return r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_kb = usage.ru_maxrss;
  r.out = test::slurp(out);
  r.err = test::slurp(err);
  return r;
}

// The JSON objects of a JSON Lines text (empty lines skipped).
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

// Tokenizes and embeds `texts` with the CLI (prompt "query", float32) and checks the ids and
// embeddings of the model folder `model` with the independent float64 reference
// (tests/tools/check_model_folder.py, under the case-set name `set`). Returns "" when they agree,
// else what went wrong.
inline std::string check_with_float64_reference(const std::filesystem::path& model,
                                                const std::vector<std::string>& texts,
                                                const std::string& set) {
  TempDir dir;
  std::string plain, prompted;
  for (const auto& t : texts) {
    plain += nlohmann::json({{"text", t}}).dump() + "\n";
    prompted += nlohmann::json({{"text", "query: " + t}}).dump() + "\n";
  }
  const Result tok = run({"tokenize", "-m", model.string()}, prompted);
  const Result emb =
      run({"embed", "-m", model.string(), "--prompt", "query", "--dtype", "float32"}, plain);
  if (tok.rc != 0) return "tokenize failed: " + tok.err;
  if (emb.rc != 0) return "embed failed: " + emb.err;
  const auto ids = json_lines(tok.out), vecs = json_lines(emb.out);
  if (ids.size() != texts.size() || vecs.size() != texts.size()) {
    return "expected " + std::to_string(texts.size()) + " lines, got " +
           std::to_string(ids.size()) + " ids and " + std::to_string(vecs.size()) + " vectors";
  }
  nlohmann::json cases = nlohmann::json::array();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    cases.push_back({{"prompt", "query: "},
                     {"text", texts[i]},
                     {"ids", ids[i]["ids"]},
                     {"embedding", vecs[i]["embedding"]}});
  }
  spit(dir / "expected.json", nlohmann::json({{set, {{"cases", cases}}}}).dump());
  const std::string cmd = std::string(SKILLMATCH_SYSTEM_PYTHON) + " " + SKILLMATCH_TEST_TOOLS +
                          "/check_model_folder.py " + quote(model.string()) + " " +
                          quote((dir / "expected.json").string()) + " " + quote(set) + " > " +
                          quote((dir / "check.out").string()) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    return "check_model_folder.py: " + slurp(dir / "check.out");
  }
  return "";
}

}  // namespace skillmatch::test
