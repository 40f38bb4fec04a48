// Running the skillmatch binary as a user runs it: arguments, stdin, environment; the exit code,
// stdout, stderr and peak memory.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace skillmatch::test
