#!/usr/bin/python3
"""Checks skillmatch's training losses and gradients against PyTorch (python3-torch, float64).

  check_train_losses.py DUMP.json

DUMP.json is written by the C++ test (tests/train_test.cpp) for a fixed batch of the fixture
models: the token ids, the embeddings / logits skillmatch computed, its loss, the gradient of the
loss with respect to those embeddings / logits, and the gradients of some parameters.

1. The loss formulas as sentence-transformers and FlagEmbedding write them, over the same
   embeddings / logits:
   - MultipleNegativesRankingLoss: scores = cos_sim(anchors, cat(positives, negatives)) * scale,
     cross_entropy(scores, arange(len(anchors)));
   - FlagEmbedding's reranker: cross_entropy(logits.view(B, G), zeros(B));
   - CrossEncoder's BinaryCrossEntropyLoss: binary_cross_entropy_with_logits(logits, labels).
2. The parameter gradients through the independent float64 XLM-R of the fixture generator
   (tests/tools/make_fixtures.py), with autograd, loaded from the model folder.
Differences are relative to the largest value of each compared tensor. Exits 1 with a message
on the first disagreement."""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402
from check_model_folder import read_safetensors  # noqa: E402

WORST = [0.0]  # the largest relative difference seen


def fail(msg):
    print("check_train_losses: " + msg)
    sys.exit(1)


def close(name, got, want, tol):
    got = torch.as_tensor(got, dtype=torch.float64).reshape(want.shape)
    scale = max(want.abs().max().item(), 1e-6)
    diff = (got - want).abs().max().item()
    if diff > tol * scale:
        fail(f"{name}: differs by {diff:.3g} (largest value {scale:.3g}, relative tolerance {tol})")
    WORST[0] = max(WORST[0], diff / scale)
    return diff


class _Torch:
    """torch, with from_numpy passing tensors through: make_fixtures' encoder then runs on the
    float64 leaf tensors given to it, so that autograd reaches the weights."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def from_numpy(v):
        return v if isinstance(v, torch.Tensor) else torch.from_numpy(v)


make_fixtures.torch = _Torch()


def leaves(path):
    """The tensors of a safetensors file as float64 leaves that collect gradients."""
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for k, v in read_safetensors(path).items()}


def encode(T, cfg, batch_ids, prefix):
    """Last hidden states [B, L, H] of the fixture generator's independent encoder."""
    return make_fixtures.encoder_forward(T, cfg, batch_ids, prefix=prefix)


def cos_sim(a, b):
    return F.normalize(a, p=2, dim=1) @ F.normalize(b, p=2, dim=1).T


def check_embedder(d):
    t = lambda k: torch.tensor(d["embeddings"][k], dtype=torch.float64, requires_grad=True)
    a, p, n = t("anchors"), t("positives"), t("negatives")
    scores = cos_sim(a, torch.cat([p, n])) * d["scale"]
    loss = F.cross_entropy(scores, torch.arange(a.shape[0]))
    loss.backward()
    close("mnrl loss", d["loss"], loss.detach(), 1e-5)
    for k, v in (("anchors", a), ("positives", p), ("negatives", n)):
        close(f"mnrl d/d{k}", d["grads"][k], v.grad, 1e-5)

    folder = d["model"]
    cfg = json.load(open(os.path.join(folder, "config.json")))
    pooling = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
    modules = [m["type"].split(".")[-1] for m in json.load(open(os.path.join(folder, "modules.json")))]
    T = leaves(os.path.join(folder, "model.safetensors"))

    def embed(ids):
        hidden, mask = encode(T, cfg, ids, "")
        if pooling["pooling_mode_cls_token"]:
            v = hidden[:, 0]
        else:
            m = mask[..., None].double()
            v = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        if "Normalize" in modules:
            v = F.normalize(v, p=2, dim=1)
        return v

    ids = d["ids"]
    ea, ep, en = embed(ids["anchors"]), embed(ids["positives"]), embed(ids["negatives"])
    close("embeddings of the anchors", d["embeddings"]["anchors"], ea.detach(), 1e-5)
    loss = F.cross_entropy(cos_sim(ea, torch.cat([ep, en])) * d["scale"], torch.arange(ea.shape[0]))
    loss.backward()
    for name, grad in d["param_grads"].items():
        close("mnrl d/d" + name, grad, T[name].grad, 1e-4)


def check_reranker(d):
    logits = torch.tensor(d["logits"], dtype=torch.float64, requires_grad=True)
    G = d["group_size"]
    ce = F.cross_entropy(logits.view(-1, G), torch.zeros(logits.shape[0] // G, dtype=torch.long))
    ce.backward()
    close("group cross-entropy loss", d["group_ce"]["loss"], ce.detach(), 1e-5)
    close("group cross-entropy d/dlogits", d["group_ce"]["grad"], logits.grad, 1e-5)
    logits.grad = None
    labels = torch.tensor(d["labels"], dtype=torch.float64)
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    bce.backward()
    close("bce loss", d["bce"]["loss"], bce.detach(), 1e-5)
    close("bce d/dlogits", d["bce"]["grad"], logits.grad, 1e-5)

    folder = d["model"]
    cfg = json.load(open(os.path.join(folder, "config.json")))
    T = leaves(os.path.join(folder, "model.safetensors"))
    hidden, _ = encode(T, cfg, d["ids"], "roberta.")
    h = torch.tanh(hidden[:, 0] @ T["classifier.dense.weight"].T + T["classifier.dense.bias"])
    ref = (h @ T["classifier.out_proj.weight"].T + T["classifier.out_proj.bias"])[:, 0]
    close("logits", d["logits"], ref.detach(), 1e-5)
    F.cross_entropy(ref.view(-1, G), torch.zeros(ref.shape[0] // G, dtype=torch.long)).backward()
    for name, grad in d["param_grads"].items():
        close("group cross-entropy d/d" + name, grad, T[name].grad, 1e-4)


def main():
    d = json.load(open(sys.argv[1]))
    check_embedder(d["embedder"])
    check_reranker(d["reranker"])
    print(f"check_train_losses: losses and gradients agree with PyTorch (largest relative "
          f"difference {WORST[0]:.2g})")


if __name__ == "__main__":
    main()
