// The training losses, as sentence-transformers and FlagEmbedding define them, on libtorch
// tensors (differentiable). Private to src/train.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

namespace skillmatch {

// sentence-transformers' cos_sim: rows of `a` [N, D] against rows of `b` [M, D] -> [N, M], each
// side L2-normalised as torch.nn.functional.normalize does (x / max(||x||, 1e-12)).
at::Tensor cosine_matrix(const at::Tensor& a, const at::Tensor& b);

// MultipleNegativesRankingLoss: anchors [B, D], candidates [C, D] with the B positives first
// (row i of the anchors belongs to candidate i) and the hard negatives after them; the mean over
// anchors of cross_entropy(scale * cos_sim(anchor, candidates), i).
at::Tensor mnrl_loss(const at::Tensor& anchors, const at::Tensor& candidates, double scale);

// FlagEmbedding's reranker loss: logits [B * G] of B groups of G pairs (the positive first),
// cross_entropy(logits.view(B, G), 0).
at::Tensor group_ce_loss(const at::Tensor& logits, std::int64_t group_size);

// sentence-transformers' CrossEncoder BinaryCrossEntropyLoss: BCE-with-logits against labels in
// [0, 1], mean over pairs.
at::Tensor bce_loss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace skillmatch
