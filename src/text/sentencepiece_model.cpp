#include "text/sentencepiece_model.h"

#include "skillmatch/core/error.h"
#include "text/protobuf_reader.h"

namespace skillmatch::text {
namespace {

// Field numbers of sentencepiece_model.proto.
constexpr std::uint32_t kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3;
constexpr std::uint32_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr std::uint32_t kTrainerModelType = 3, kTrainerTreatWsAsSuffix = 24,
                        kTrainerByteFallback = 35;
constexpr std::uint32_t kNormName = 1, kNormCharsmap = 2, kNormDummyPrefix = 3,
                        kNormRemoveExtraWs = 4, kNormEscapeWs = 5;

Piece parse_piece(std::string_view data, const std::string& what) {
  ProtobufReader r(data, what);
  Piece p;
  std::uint32_t field;
  ProtobufReader::WireType wire;
  while (r.next(&field, &wire)) {
    if (field == kPieceText) {
      r.expect(wire, ProtobufReader::kBytes, "piece");
      p.text = std::string(r.bytes());
    } else if (field == kPieceScore) {
      r.expect(wire, ProtobufReader::kFixed32, "score");
      p.score = r.fixed32_float();
    } else if (field == kPieceType) {
      r.expect(wire, ProtobufReader::kVarint, "type");
      auto t = r.varint();
      SM_CHECK(t >= 1 && t <= 6, ErrorKind::kCorrupt,
               what + ": unknown piece type " + std::to_string(t));
      p.type = static_cast<PieceType>(t);
    } else {
      r.skip(wire);
    }
  }
  return p;
}

void parse_trainer(std::string_view data, const std::string& what, SentencePieceModel* m) {
  ProtobufReader r(data, what);
  std::uint32_t field;
  ProtobufReader::WireType wire;
  while (r.next(&field, &wire)) {
    if (field == kTrainerModelType && wire == ProtobufReader::kVarint) {
      m->model_type = static_cast<std::int32_t>(r.varint());
    } else if (field == kTrainerTreatWsAsSuffix && wire == ProtobufReader::kVarint) {
      m->treat_whitespace_as_suffix = r.varint() != 0;
    } else if (field == kTrainerByteFallback && wire == ProtobufReader::kVarint) {
      m->byte_fallback = r.varint() != 0;
    } else {
      r.skip(wire);
    }
  }
}

void parse_normalizer(std::string_view data, const std::string& what, NormalizerSpec* n) {
  ProtobufReader r(data, what);
  std::uint32_t field;
  ProtobufReader::WireType wire;
  while (r.next(&field, &wire)) {
    if (field == kNormName && wire == ProtobufReader::kBytes) {
      n->name = std::string(r.bytes());
    } else if (field == kNormCharsmap && wire == ProtobufReader::kBytes) {
      n->precompiled_charsmap = std::string(r.bytes());
    } else if (field == kNormDummyPrefix && wire == ProtobufReader::kVarint) {
      n->add_dummy_prefix = r.varint() != 0;
    } else if (field == kNormRemoveExtraWs && wire == ProtobufReader::kVarint) {
      n->remove_extra_whitespaces = r.varint() != 0;
    } else if (field == kNormEscapeWs && wire == ProtobufReader::kVarint) {
      n->escape_whitespaces = r.varint() != 0;
    } else {
      r.skip(wire);
    }
  }
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(std::string_view data, const std::string& what) {
  SentencePieceModel m;
  ProtobufReader r(data, what);
  std::uint32_t field;
  ProtobufReader::WireType wire;
  bool saw_normalizer = false;
  while (r.next(&field, &wire)) {
    if (field == kModelPieces) {
      r.expect(wire, ProtobufReader::kBytes, "pieces");
      m.pieces.push_back(parse_piece(r.bytes(), what));
    } else if (field == kModelTrainerSpec) {
      r.expect(wire, ProtobufReader::kBytes, "trainer_spec");
      parse_trainer(r.bytes(), what, &m);
    } else if (field == kModelNormalizerSpec) {
      r.expect(wire, ProtobufReader::kBytes, "normalizer_spec");
      parse_normalizer(r.bytes(), what, &m.normalizer);
      saw_normalizer = true;
    } else {
      r.skip(wire);
    }
  }
  SM_CHECK(!m.pieces.empty(), ErrorKind::kCorrupt,
           what + ": not a SentencePiece model (no pieces found)");
  SM_CHECK(saw_normalizer, ErrorKind::kCorrupt,
           what + ": not a SentencePiece model (no normalizer spec)");
  SM_CHECK(m.model_type == 1, ErrorKind::kUnsupported,
           what + ": SentencePiece model type " + std::to_string(m.model_type) +
               " is not supported (only unigram, as XLM-R uses)");
  SM_CHECK(!m.byte_fallback, ErrorKind::kUnsupported,
           what + ": SentencePiece byte fallback is not supported");
  int unknown = 0;
  for (const auto& p : m.pieces) {
    SM_CHECK(!p.text.empty(), ErrorKind::kCorrupt, what + ": a piece is empty");
    if (p.type == PieceType::kUnknown) ++unknown;
  }
  SM_CHECK(unknown == 1, ErrorKind::kCorrupt,
           what + ": expected exactly one <unk> piece, found " + std::to_string(unknown));
  return m;
}

}  // namespace skillmatch::text
