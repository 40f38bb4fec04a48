#include "train/losses.h"

namespace skillmatch {

at::Tensor cosine_matrix(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor an = a / a.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor bn = b / b.norm(2, 1, true).clamp_min(1e-12);
  return at::mm(an, bn.t());
}

at::Tensor mnrl_loss(const at::Tensor& anchors, const at::Tensor& candidates, double scale) {
  const at::Tensor scores = cosine_matrix(anchors, candidates) * scale;
  const at::Tensor labels = at::arange(anchors.size(0), at::kLong);
  return at::cross_entropy_loss(scores, labels);
}

at::Tensor group_ce_loss(const at::Tensor& logits, std::int64_t group_size) {
  const at::Tensor grouped = logits.view({-1, group_size});
  return at::cross_entropy_loss(grouped, at::zeros({grouped.size(0)}, at::kLong));
}

at::Tensor bce_loss(const at::Tensor& logits, const at::Tensor& labels) {
  return at::binary_cross_entropy_with_logits(logits, labels.to(logits.scalar_type()));
}

}  // namespace skillmatch
