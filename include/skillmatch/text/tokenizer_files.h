// Writing the two tokenizer files of an XLM-R model folder from one another, for model-folder
// writers that must ship both `tokenizer.json` and `sentencepiece.bpe.model`.
//
// Thread-safety: pure functions. Errors: kNotFound / kCorrupt / kUnsupported naming the file, as
// Tokenizer::load raises them; kUnsupported for a model that is not laid out like XLM-R's.
#pragma once

#include <filesystem>
#include <string>

namespace skillmatch {

// Which transformers converter's tokenizer.json to write for a SentencePiece model.
enum class TokenizerJsonLayout {
  // transformers before 4.3x (tokenizers 0.13): normalizer Sequence[Precompiled,
  // Replace(" {2,}" -> " ")], Metaspace with add_prefix_space, "<mask>" normalized. A text
  // ending in white space gets one more "▁" than SentencePiece gives it.
  kLegacy,
  // Current transformers (tokenizers 0.2x): Sequence[Precompiled, Strip(right),
  // Replace(" {2,}" -> "▁")], Metaspace with prepend_scheme "always" and split; the same ids as
  // SentencePiece for ordinary text.
  kCurrent,
};

// The tokenizer.json transformers' XLMRobertaConverter writes for the SentencePiece model file
// `spm_model`: vocabulary <s> <pad> </s> <unk> (score 0), the model's pieces from index 3 on,
// <mask>; unk_id 3; the five special added tokens (<mask> with lstrip); post-processor
// TemplateProcessing "<s> $A </s>" / "<s> $A </s> </s> $B </s>"; decoder Metaspace. Formatted as
// tokenizers' save() formats it (pretty JSON, 2-space indent, floats as Rust prints them).
std::string tokenizer_json_from_sentencepiece(
    const std::filesystem::path& spm_model,
    TokenizerJsonLayout layout = TokenizerJsonLayout::kCurrent);

// A serialized SentencePiece ModelProto for an XLM-R style `tokenizer_json` (Unigram vocabulary
// starting <s> <pad> </s> <unk>, optionally ending in <mask>): pieces <unk> <s> </s> (types
// unknown, control, control) then the vocabulary from index 4 (normal pieces; non-special added
// tokens as user-defined), trainer_spec unigram, normalizer_spec with the Precompiled character
// map ("nmt_nfkc", or "identity" without one), add_dummy_prefix, remove_extra_whitespaces and
// escape_whitespaces. skillmatch (and SentencePiece) load it back with the source's ids for text
// without leading, trailing or repeated white space.
std::string sentencepiece_model_from_tokenizer_json(const std::filesystem::path& tokenizer_json);

}  // namespace skillmatch
