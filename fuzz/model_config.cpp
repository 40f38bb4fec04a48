// config.json of a model: ModelConfig::parse and its checks.
#include "skillmatch/model/model_config.h"
#include "fuzz_util.h"

using namespace skillmatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ModelConfig c =
        ModelConfig::parse(std::string(fuzz::as_text(data, size)), "fuzz/config.json");
    FUZZ_CHECK(c.hidden_size > 0 && c.num_attention_heads > 0 &&
               c.hidden_size % c.num_attention_heads == 0);
    FUZZ_CHECK(c.max_tokens() > 0);
  } catch (const Error& e) {
    fuzz::expect_error(e, "fuzz/config.json");
  }
  return 0;
}
