// Options as a JSON object (a request body, set_object): the first line names the table (match,
// embed, rerank, tokenize, index), the rest is JSON. Each option is also set from the whole
// value, so that every setter meets every JSON type. A request that is set without error must
// hold values inside the ranges the options state; its templates must render.
#include "options_checks.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::with_table(fuzz::as_text(data, size),
                   [](const auto& table, auto options, std::string_view text) {
                     const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
                     if (j.is_discarded()) return;
                     try {
                       auto o = options;
                       table.set_object(o, j, {"name"}, {"model"});
                       fuzz::check_options(o);
                     } catch (const Error& e) {
                       fuzz::expect_error(e);
                     }
                     for (const auto& option : table.options()) {
                       try {
                         auto o = options;
                         table.set_json(o, option.name, j);
                         fuzz::check_options(o);
                       } catch (const Error& e) {
                         fuzz::expect_error(e);
                       }
                     }
                   });
  return 0;
}
