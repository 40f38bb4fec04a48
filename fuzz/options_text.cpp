// Options as `key=value` text (eval's --config, any table's set_pairs): the first line names the
// table (match, embed, rerank, tokenize, index), the rest is the list. A request that is set
// without error must hold values inside the ranges the options state; its templates must render.
#include "options_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::with_table(fuzz::as_text(data, size),
                   [](const auto& table, auto options, std::string_view text) {
                     try {
                       table.set_pairs(options, text, "fuzz");
                       fuzz::check_options(options);
                     } catch (const Error& e) {
                       fuzz::expect_error(e);
                     }
                   });
  return 0;
}
