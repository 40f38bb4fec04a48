#include "io_options.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "jsonl.h"
#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace skillmatch::cli {

void IoOptions::add_to(CLI::App& cmd) {
  cmd.add_option("-i,--input", input, "input file ('-' = stdin)")->capture_default_str();
  cmd.add_option("-o,--output", output,
                 "output file, replaced atomically when the command succeeds ('-' = stdout)")
      ->capture_default_str();
}

namespace {

// Reads from the input file, or stdin for "-": `body(in, name)`.
template <class Body>
void with_input(const std::string& input, Body body) {
  if (input == "-") {
    body(std::cin, std::string("stdin"));
    return;
  }
  require_file(input, "input file");
  std::ifstream file(input, std::ios::binary);
  SM_CHECK(file.is_open(), ErrorKind::kIo, "cannot open input file " + input);
  body(file, input);
}

}  // namespace

void IoOptions::run(
    const std::function<void(std::istream&, const std::string&, std::FILE*)>& body) const {
  with_input(input, [&](std::istream& in, const std::string& in_name) {
    if (output == "-") {
      body(in, in_name, stdout);
      SM_CHECK(std::fflush(stdout) == 0, ErrorKind::kIo, "cannot write to stdout");
    } else {
      write_file_atomic(output, [&](std::FILE* f) { body(in, in_name, f); });
    }
  });
}

std::string IoOptions::read_input() const {
  std::string text;
  with_input(input, [&](std::istream& in, const std::string& name) {
    std::stringstream ss;
    ss << in.rdbuf();
    SM_CHECK(!in.bad(), ErrorKind::kIo, "cannot read " + name);
    text = ss.str();
  });
  return text;
}

void IoOptions::write_output(const std::string& text) const {
  if (output == "-") {
    write_all(stdout, text);
    SM_CHECK(std::fflush(stdout) == 0, ErrorKind::kIo, "cannot write to stdout");
    return;
  }
  write_file_atomic(output, [&](std::FILE* f) { write_all(f, text); });
}

}  // namespace skillmatch::cli
