// The JSON documents of a model folder read by ModelFolder::read (everything but the weights and
// the tokenizer files, which have targets of their own). The input holds seven parts separated by
// lines "----": config.json, tokenizer_config.json, special_tokens_map.json, modules.json,
// 1_Pooling/config.json, sentence_bert_config.json, config_sentence_transformers.json; an empty
// part leaves its file out.
#include "skillmatch/model/model_folder.h"
#include "fuzz_util.h"

using namespace skillmatch;

namespace {

const char* const kFiles[] = {"config.json",
                              "tokenizer_config.json",
                              "special_tokens_map.json",
                              "modules.json",
                              "1_Pooling/config.json",
                              "sentence_bert_config.json",
                              "config_sentence_transformers.json"};
constexpr std::size_t kCount = sizeof kFiles / sizeof kFiles[0];

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_parts(fuzz::as_text(data, size), kCount);
  const auto dir = fuzz::fresh_dir("model");
  for (std::size_t i = 0; i < kCount; ++i) {
    if (!parts[i].empty()) fuzz::write_scratch(std::string("model/") + kFiles[i], parts[i]);
  }
  try {
    const ModelFolder m = ModelFolder::read(dir);
    if (m.has_config()) {
      FUZZ_CHECK(m.config().max_tokens() > 0);
      m.kind();
    }
    const std::size_t max_length = m.tokenizer_max_length();
    FUZZ_CHECK(!m.has_config() || max_length <= static_cast<std::size_t>(m.config().max_tokens()));
    const SentenceTransformersConfig& st = m.sentence_transformers();
    FUZZ_CHECK(!st.present || !st.pooling.modes.empty());
    FUZZ_CHECK(st.default_prompt_name.empty() || st.prompts.count(st.default_prompt_name));
    m.weights_file();
    m.sentencepiece_file();
    m.tokenizer_json_file();
  } catch (const Error& e) {
    fuzz::expect_error(e, dir.string());
  }
  return 0;
}
