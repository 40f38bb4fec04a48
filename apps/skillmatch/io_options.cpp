#include "io_options.h"

#include <fstream>
#include <iostream>

#include "skillmatch/core/error.h"
#include "skillmatch/core/io.h"

namespace skillmatch::cli {

void IoOptions::add_to(CLI::App& cmd) {
  cmd.add_option("-i,--input", input, "JSON Lines input file ('-' = stdin)")->capture_default_str();
  cmd.add_option("-o,--output", output,
                 "output file, replaced atomically when the command succeeds ('-' = stdout)")
      ->capture_default_str();
}

void IoOptions::run(
    const std::function<void(std::istream&, const std::string&, std::FILE*)>& body) const {
  std::ifstream file;
  std::istream* in = &std::cin;
  std::string in_name = "stdin";
  if (input != "-") {
    require_file(input, "input file");
    file.open(input, std::ios::binary);
    SM_CHECK(file.is_open(), ErrorKind::kIo, "cannot open input file " + input);
    in = &file;
    in_name = input;
  }
  if (output == "-") {
    body(*in, in_name, stdout);
    SM_CHECK(std::fflush(stdout) == 0, ErrorKind::kIo, "cannot write to stdout");
  } else {
    write_file_atomic(output, [&](std::FILE* f) { body(*in, in_name, f); });
  }
}

}  // namespace skillmatch::cli
