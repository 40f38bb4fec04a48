#!/usr/bin/python3
"""PyTorch eager baseline for bench/train_bench: the same training step as skillmatch's
`train embedder`, the way sentence-transformers runs it on transformers' XLMRobertaModel.

Neither library is packaged by Debian, so this script writes out what they do with Debian's
python3-torch: the eager torch.nn modules of XLMRobertaModel (separate query/key/value Linear
layers, additive mask, softmax attention, dropout as config.json says, post-LayerNorm, exact
GELU), mean or CLS pooling and normalisation as the folder's modules say, the loss
MultipleNegativesRankingLoss (cos_sim x 20, cross-entropy) or its cached variant (embeddings
without a graph per mini-batch, the loss gradient on them, each mini-batch embedded again with
the random state of its first pass and back-propagated), torch.optim.AdamW with Hugging Face's
weight-decay groups, clip_grad_norm_ 1.0, and torch.autocast("cpu", torch.bfloat16) for bfloat16.

Input: the JSON written by train_bench --dump (token ids of each step's anchors and positives,
so both sides see the same ids). Output: one JSON line per configuration with tokens/s over the
timed steps (the first step is a warm-up), and with --memory the peak resident memory.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_baseline  # noqa: E402
from pytorch_baseline import read_safetensors  # noqa: E402


class Layer(pytorch_baseline.Layer):
    """The inference baseline's layer with transformers' dropout: on the attention probabilities
    and on both sublayers' outputs."""

    def __init__(self, h, heads, ffn, eps, p_hidden, p_attn):
        super().__init__(h, heads, ffn, eps)
        self.drop_hidden, self.drop_attn = nn.Dropout(p_hidden), nn.Dropout(p_attn)

    def forward(self, x, bias):
        b, l, h = x.shape
        split = lambda t: t.view(b, l, self.heads, self.d).permute(0, 2, 1, 3)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d) + bias
        c = torch.matmul(self.drop_attn(torch.softmax(s, -1)), v).permute(0, 2, 1, 3).reshape(b, l, h)
        a = self.ln1(self.drop_hidden(self.o(c)) + x)
        return self.ln2(self.drop_hidden(self.down(F.gelu(self.up(a)))) + a)


class Encoder(pytorch_baseline.XlmR):
    """The inference baseline's XlmR (its weight loading too) with dropout after the embeddings'
    LayerNorm and in every layer, as XLMRobertaModel trains."""

    def __init__(self, cfg):
        super().__init__(cfg, classifier=False)
        # XLMRobertaEmbeddings' padding_idx: the padding rows get no gradient (as in the C++ trainer).
        self.word.padding_idx = self.pos.padding_idx = self.pad
        p = cfg["hidden_dropout_prob"]
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList(
            Layer(cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"],
                  cfg["layer_norm_eps"], p, cfg["attention_probs_dropout_prob"])
            for _ in range(cfg["num_hidden_layers"]))

    def forward(self, ids, mask):
        pos = torch.cumsum(mask, 1) * mask + self.pad
        x = self.drop(self.ln(self.word(ids) + self.tok_type(torch.zeros_like(ids)) + self.pos(pos)))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for L in self.layers:
            x = L(x, bias)
        return x


def pad(seqs):
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), 1, dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = torch.tensor(s)
    return ids, (ids != 1).long()


def embed(model, seqs, pooling, normalize):
    ids, mask = pad(seqs)
    h = model(ids, mask)
    if pooling == "cls":
        v = h[:, 0]
    else:
        m = mask[..., None].to(h.dtype)
        v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return F.normalize(v, dim=-1) if normalize else v


def mnrl(a, candidates, scale=20.0):
    scores = F.normalize(a, dim=-1) @ F.normalize(candidates, dim=-1).T * scale
    return F.cross_entropy(scores, torch.arange(a.shape[0]))


def step_plain(model, columns, pooling, normalize):
    reps = [embed(model, c, pooling, normalize) for c in columns]
    loss = mnrl(reps[0], torch.cat(reps[1:]))
    loss.backward()
    return loss.item()


def step_cached(model, columns, pooling, normalize, mini):
    chunks, reps = [], []
    with torch.no_grad():
        for ci, col in enumerate(columns):
            parts = []
            for b in range(0, len(col), mini):
                chunks.append((ci, b, torch.get_rng_state()))
                parts.append(embed(model, col[b : b + mini], pooling, normalize))
            reps.append(torch.cat(parts).requires_grad_())
    after = torch.get_rng_state()
    loss = mnrl(reps[0], torch.cat(reps[1:]))
    loss.backward()
    for ci, b, state in chunks:
        torch.set_rng_state(state)
        e = embed(model, columns[ci][b : b + mini], pooling, normalize)
        e.backward(reps[ci].grad[b : b + mini].to(e.dtype))
    torch.set_rng_state(after)
    return loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--embedder", required=True)
    ap.add_argument("--losses", default="mnrl,cached-mnrl")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--mini-batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory", action="store_true", help="one configuration; report peak memory")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    inp = json.load(open(a.inputs))
    folder = a.embedder
    cfg = json.load(open(os.path.join(folder, "config.json")))
    pc = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
    pooling = "cls" if pc.get("pooling_mode_cls_token") else "mean"
    modules = json.load(open(os.path.join(folder, "modules.json")))
    normalize = any(m["type"].endswith("Normalize") for m in modules)
    W = read_safetensors(os.path.join(folder, "model.safetensors"))
    for loss_name in a.losses.split(","):
        for dt in a.dtypes.split(","):
            model = Encoder(cfg)
            model.load(W, "")
            model.train()
            decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "ln" not in n.split(".")[-2]]
            no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "ln" in n.split(".")[-2]]
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                     {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
            times, tokens = [], []
            for columns in inp["steps"]:
                n_tokens = sum(len(s) for c in columns for s in c)
                t = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dt == "bfloat16"):
                    if loss_name == "mnrl":
                        step_plain(model, columns, pooling, normalize)
                    else:
                        step_cached(model, columns, pooling, normalize, a.mini_batch)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad()
                times.append(time.perf_counter() - t)
                tokens.append(n_tokens)
            timed = slice(1, None) if len(times) > 1 else slice(None)
            tps = sum(tokens[timed]) / sum(times[timed])
            out = {"impl": "pytorch", "loss": loss_name, "dtype": dt, "batch": len(inp["steps"][0][0]),
                   "tokens_per_s": tps, "step_seconds": times,
                   "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
            print(json.dumps(out), flush=True)
            del model, opt


if __name__ == "__main__":
    main()
