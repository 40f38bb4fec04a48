#include "model/pooling.h"

#include <algorithm>
#include <vector>

namespace skillmatch {

at::Tensor pool_embeddings(const at::Tensor& hidden, const at::Tensor& mask_in,
                           const PoolingConfig& pooling, std::size_t prompt_length,
                           bool normalize) {
  at::Tensor mask = mask_in;
  if (!pooling.include_prompt && prompt_length > 0) {
    mask = mask_in.clone();
    const auto n = std::min<std::int64_t>(static_cast<std::int64_t>(prompt_length), mask.size(1));
    mask.narrow(1, 0, n).zero_();
  }
  const at::Tensor m = mask.to(hidden.scalar_type()).unsqueeze(-1);  // [B, L, 1]
  std::vector<at::Tensor> parts;
  for (PoolMode mode : pooling.modes) {
    switch (mode) {
      case PoolMode::kCls:
        parts.push_back(hidden.select(1, 0));
        break;
      case PoolMode::kMax:
        parts.push_back(std::get<0>(hidden.masked_fill(m == 0, -1e9).max(1)));
        break;
      case PoolMode::kMean:
      case PoolMode::kMeanSqrtLen: {
        at::Tensor sum = (hidden * m).sum(1);
        at::Tensor count = m.sum(1).clamp_min(1e-9);
        parts.push_back(mode == PoolMode::kMean ? sum / count : sum / count.sqrt());
        break;
      }
      case PoolMode::kWeightedMean: {
        at::Tensor w = at::arange(1, hidden.size(1) + 1, hidden.options()).view({1, -1, 1}) * m;
        parts.push_back((hidden * w).sum(1) / w.sum(1).clamp_min(1e-9));
        break;
      }
      case PoolMode::kLastToken: {
        // Index of the last position whose mask is 1 (the last position if none is).
        const std::int64_t len = mask.size(1);
        auto [values, flipped] = mask.flip(1).max(1);
        at::Tensor idx = at::where(values == 0, at::full_like(flipped, len - 1), flipped);
        idx = (len - 1) - idx;
        at::Tensor picked =
            (hidden * m)
                .gather(1, idx.view({-1, 1, 1}).expand({hidden.size(0), 1, hidden.size(2)}));
        parts.push_back(picked.squeeze(1));
        break;
      }
    }
  }
  at::Tensor out = parts.size() == 1 ? parts[0] : at::cat(parts, 1);
  if (normalize) {
    // torch.nn.functional.normalize: x / max(||x||, 1e-12)
    out = out / out.norm(2, 1, true).clamp_min(1e-12);
  }
  return out;
}

}  // namespace skillmatch
