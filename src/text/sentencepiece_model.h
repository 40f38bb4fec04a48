// The parts of SentencePiece's ModelProto that encoding needs, parsed from the wire format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skillmatch::text {

enum class PieceType : std::int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct Piece {
  std::string text;
  float score = 0.0f;
  PieceType type = PieceType::kNormal;
};

struct NormalizerSpec {
  std::string name;
  std::string precompiled_charsmap;  // serialized double-array trie + replacement strings
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

struct SentencePieceModel {
  std::vector<Piece> pieces;
  NormalizerSpec normalizer;
  std::int32_t model_type = 1;  // TrainerSpec.ModelType: 1 unigram, 2 bpe, 3 word, 4 char
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
};

// Parses a serialized ModelProto. `what` names the source in error messages.
// Throws kCorrupt on malformed data, kUnsupported for models skillmatch cannot encode exactly.
SentencePieceModel parse_sentencepiece_model(std::string_view data, const std::string& what);

}  // namespace skillmatch::text
