// SentencePiece unigram segmentation: Viterbi over piece scores on normalized text.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "text/sentencepiece_model.h"

namespace skillmatch::text {

// A byte trie over the pieces, children stored contiguously and sorted by byte.
class PieceTrie {
 public:
  // Adds every (text, id) pair; texts must be unique (duplicates: the first id wins).
  explicit PieceTrie(std::vector<std::pair<std::string_view, std::int32_t>> entries);

  // Calls visit(id, length) for every entry that is a prefix of `text`, shortest first.
  template <class Visit>
  void common_prefixes(std::string_view text, Visit&& visit) const {
    std::uint32_t node = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node == kNone) return;
      if (nodes_[node].value >= 0) visit(nodes_[node].value, i + 1);
    }
  }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Node {
    std::int32_t value = -1;
    std::uint32_t first_edge = 0;
    std::uint32_t num_edges = 0;
  };
  std::uint32_t child(std::uint32_t node, unsigned char c) const;

  std::vector<Node> nodes_;
  std::vector<unsigned char> labels_;
  std::vector<std::uint32_t> targets_;
};

class UnigramModel {
 public:
  explicit UnigramModel(const SentencePieceModel& model);

  // Segments normalized text into SentencePiece ids, consecutive unknown characters merged into
  // one unk piece, exactly as SentencePieceProcessor::Encode does. Optionally also returns the
  // byte ranges of the pieces in `normalized`.
  std::vector<std::int32_t> encode(
      std::string_view normalized,
      std::vector<std::pair<std::size_t, std::size_t>>* spans = nullptr) const;

  std::int32_t unk_id() const noexcept { return unk_id_; }

 private:
  PieceTrie trie_;
  std::vector<float> scores_;
  std::vector<PieceType> types_;
  std::int32_t unk_id_ = 0;
  float min_score_ = 0.0f;
  float max_score_ = 0.0f;
};

}  // namespace skillmatch::text
