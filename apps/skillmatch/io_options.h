// --input/--output handling shared by the JSON Lines commands.
#pragma once

#include <cstdio>
#include <functional>
#include <istream>
#include <string>

#include <CLI/CLI.hpp>

namespace skillmatch::cli {

struct IoOptions {
  std::string input = "-";   // "-" is stdin
  std::string output = "-";  // "-" is stdout

  void add_to(CLI::App& cmd);

  // Opens the input (naming it in errors) and runs `body(in, in_name, out)`. A file output is
  // written to a temporary file and renamed into place only if `body` succeeds: a failure leaves
  // no half-written file.
  void run(const std::function<void(std::istream&, const std::string&, std::FILE*)>& body) const;

  // The whole input (the file, or stdin) as one text.
  std::string read_input() const;
  // Writes `text` to the output (a file is replaced atomically).
  void write_output(const std::string& text) const;
};

}  // namespace skillmatch::cli
