#include "text/unigram.h"

#include <algorithm>
#include <cfloat>

#include "skillmatch/core/error.h"
#include "text/normalizer.h"

namespace skillmatch::text {
namespace {

// SentencePiece's penalty for an unknown character below the lowest piece score.
constexpr float kUnkPenalty = 10.0f;

}  // namespace

PieceTrie::PieceTrie(std::vector<std::pair<std::string_view, std::int32_t>> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  nodes_.reserve(entries.size() * 2 + 1);
  // Nodes are made from an explicit stack, not by recursion: a piece is as long as its file
  // makes it (one of 1 MB in a tokenizer.json overflowed the stack), and so is the trie's depth.
  // Each item is a range of `entries` sharing their first `depth` bytes, and the edge that leads
  // to the node it becomes (kNone for the root, made first).
  struct Item {
    std::size_t lo, hi, depth;
    std::uint32_t edge;
  };
  std::vector<Item> stack{{0, entries.size(), 0, kNone}};
  std::vector<std::pair<unsigned char, std::pair<std::size_t, std::size_t>>> groups;
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    const std::uint32_t node = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
    if (item.edge != kNone) targets_[item.edge] = node;
    std::size_t i = item.lo;
    // Entries ending at this depth sort first; duplicates keep the first id.
    while (i < item.hi && entries[i].first.size() == item.depth) {
      if (nodes_[node].value < 0) nodes_[node].value = entries[i].second;
      ++i;
    }
    groups.clear();
    while (i < item.hi) {
      const auto c = static_cast<unsigned char>(entries[i].first[item.depth]);
      std::size_t j = i;
      while (j < item.hi && static_cast<unsigned char>(entries[j].first[item.depth]) == c) ++j;
      groups.push_back({c, {i, j}});
      i = j;
    }
    const auto first = static_cast<std::uint32_t>(labels_.size());
    nodes_[node].first_edge = first;
    nodes_[node].num_edges = static_cast<std::uint32_t>(groups.size());
    labels_.resize(labels_.size() + groups.size());
    targets_.resize(targets_.size() + groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
      labels_[first + g] = groups[g].first;
      stack.push_back({groups[g].second.first, groups[g].second.second, item.depth + 1,
                       first + static_cast<std::uint32_t>(g)});
    }
  }
}

std::uint32_t PieceTrie::child(std::uint32_t node, unsigned char c) const {
  const Node& n = nodes_[node];
  const unsigned char* begin = labels_.data() + n.first_edge;
  const unsigned char* end = begin + n.num_edges;
  const unsigned char* it = std::lower_bound(begin, end, c);
  if (it == end || *it != c) return kNone;
  return targets_[n.first_edge + (it - begin)];
}

namespace {

std::vector<std::pair<std::string_view, std::int32_t>> trie_entries(
    const SentencePieceModel& model) {
  std::vector<std::pair<std::string_view, std::int32_t>> entries;
  for (std::size_t i = 0; i < model.pieces.size(); ++i) {
    const Piece& p = model.pieces[i];
    if (p.type == PieceType::kNormal || p.type == PieceType::kUserDefined ||
        p.type == PieceType::kUnused) {
      entries.emplace_back(p.text, static_cast<std::int32_t>(i));
    }
  }
  return entries;
}

}  // namespace

UnigramModel::UnigramModel(const SentencePieceModel& model) : trie_(trie_entries(model)) {
  min_score_ = FLT_MAX;
  max_score_ = FLT_MIN;
  scores_.reserve(model.pieces.size());
  types_.reserve(model.pieces.size());
  for (std::size_t i = 0; i < model.pieces.size(); ++i) {
    const Piece& p = model.pieces[i];
    scores_.push_back(p.score);
    types_.push_back(p.type);
    if (p.type == PieceType::kUnknown) unk_id_ = static_cast<std::int32_t>(i);
    if (p.type == PieceType::kNormal) {
      min_score_ = std::min(min_score_, p.score);
      max_score_ = std::max(max_score_, p.score);
    }
  }
}

std::vector<std::int32_t> UnigramModel::encode(
    std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>* spans) const {
  struct Best {
    std::int32_t id = -1;
    float score = 0.0f;
    std::int64_t starts_at = -1;
  };
  const std::size_t size = text.size();
  std::vector<Best> best(size + 1);
  best[0].starts_at = 0;
  const float unk_score = min_score_ - kUnkPenalty;

  std::size_t starts_at = 0;
  while (starts_at < size) {
    const float score_here = best[starts_at].score;
    const std::size_t mblen =
        std::min(utf8_char_len(static_cast<unsigned char>(text[starts_at])), size - starts_at);
    bool has_single_node = false;
    trie_.common_prefixes(text.substr(starts_at), [&](std::int32_t id, std::size_t length) {
      if (types_[id] == PieceType::kUnused) return;
      Best& target = best[starts_at + length];
      const float score = types_[id] == PieceType::kUserDefined
                              ? static_cast<float>(length) * max_score_ - 0.1f
                              : scores_[id];
      const float candidate = score + score_here;
      if (target.starts_at == -1 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<std::int64_t>(starts_at);
        target.id = id;
      }
      if (length == mblen) has_single_node = true;
    });
    if (!has_single_node) {
      Best& target = best[starts_at + mblen];
      const float candidate = unk_score + score_here;
      if (target.starts_at == -1 || candidate > target.score) {
        target.score = candidate;
        target.starts_at = static_cast<std::int64_t>(starts_at);
        target.id = unk_id_;
      }
    }
    starts_at += mblen;
  }

  std::vector<std::pair<std::size_t, std::size_t>> path;
  std::vector<std::int32_t> ids;
  for (std::size_t end = size; end > 0;) {
    const Best& node = best[end];
    SM_ASSERT(node.starts_at >= 0);
    ids.push_back(node.id);
    path.push_back({static_cast<std::size_t>(node.starts_at), end});
    end = static_cast<std::size_t>(node.starts_at);
  }
  std::reverse(ids.begin(), ids.end());
  std::reverse(path.begin(), path.end());

  // Merge runs of unknown pieces into one, as SentencePieceProcessor does.
  std::size_t w = 0;
  for (std::size_t r = 0; r < ids.size(); ++r) {
    if (w > 0 && ids[r] == unk_id_ && ids[w - 1] == unk_id_) {
      path[w - 1].second = path[r].second;
      continue;
    }
    ids[w] = ids[r];
    path[w] = path[r];
    ++w;
  }
  ids.resize(w);
  path.resize(w);
  if (spans) *spans = std::move(path);
  return ids;
}

}  // namespace skillmatch::text
