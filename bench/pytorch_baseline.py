#!/usr/bin/python3
"""PyTorch eager baseline for bench/engine_bench: the same models and inputs, run the way
sentence-transformers (bi-encoder) and FlagEmbedding's FlagReranker (cross-encoder) run them.

Neither library is packaged by Debian, so this script does what they do with Debian's
python3-torch: an XLM-R encoder written as the eager torch.nn modules of transformers'
XLMRobertaModel (separate query/key/value Linear layers, additive mask, softmax attention,
post-LayerNorm, exact GELU), inputs sorted by length and padded per batch as
SentenceTransformer.encode / FlagReranker.compute_score do, under torch.inference_mode(), in
float32 or after model.to(torch.bfloat16).

Input: the token ids written by engine_bench (--dump-inputs), so that both sides see the same
ids; tokenisation is timed separately by engine_bench. Output: one JSON object with tokens/s per
(task, dtype) and the first embeddings/scores for a numerical cross-check.
"""
import argparse
import json
import math
import struct
import time

import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[8 + n + b : 8 + n + e]), dtype=torch.float32)
        out[name] = t.reshape(info["shape"])
    return out


class Layer(nn.Module):
    def __init__(self, h, heads, ffn, eps):
        super().__init__()
        self.heads, self.d = heads, h // heads
        self.q, self.k, self.v = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.o, self.ln1 = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
        self.up, self.down, self.ln2 = nn.Linear(h, ffn), nn.Linear(ffn, h), nn.LayerNorm(h, eps=eps)

    def forward(self, x, bias):
        b, l, h = x.shape
        split = lambda t: t.view(b, l, self.heads, self.d).permute(0, 2, 1, 3)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d) + bias
        c = torch.matmul(torch.softmax(s, -1), v).permute(0, 2, 1, 3).reshape(b, l, h)
        a = self.ln1(self.o(c) + x)
        return self.ln2(self.down(nn.functional.gelu(self.up(a))) + a)


class XlmR(nn.Module):
    def __init__(self, cfg, classifier):
        super().__init__()
        h = cfg["hidden_size"]
        eps = cfg["layer_norm_eps"]
        self.pad = cfg["pad_token_id"]
        self.word = nn.Embedding(cfg["vocab_size"], h)
        self.pos = nn.Embedding(cfg["max_position_embeddings"], h)
        self.tok_type = nn.Embedding(cfg["type_vocab_size"], h)
        self.ln = nn.LayerNorm(h, eps=eps)
        self.layers = nn.ModuleList(
            Layer(h, cfg["num_attention_heads"], cfg["intermediate_size"], eps)
            for _ in range(cfg["num_hidden_layers"]))
        self.classifier = (nn.Linear(h, h), nn.Linear(h, 1)) if classifier else None
        if classifier:
            self.dense, self.out_proj = self.classifier

    def load(self, W, prefix):
        g = lambda k: W[prefix + k]
        with torch.no_grad():
            self.word.weight.copy_(g("embeddings.word_embeddings.weight"))
            self.pos.weight.copy_(g("embeddings.position_embeddings.weight"))
            self.tok_type.weight.copy_(g("embeddings.token_type_embeddings.weight"))
            self.ln.weight.copy_(g("embeddings.LayerNorm.weight"))
            self.ln.bias.copy_(g("embeddings.LayerNorm.bias"))
            for i, L in enumerate(self.layers):
                p = f"encoder.layer.{i}."
                for mod, name in ((L.q, "attention.self.query"), (L.k, "attention.self.key"),
                                  (L.v, "attention.self.value"), (L.o, "attention.output.dense"),
                                  (L.ln1, "attention.output.LayerNorm"), (L.up, "intermediate.dense"),
                                  (L.down, "output.dense"), (L.ln2, "output.LayerNorm")):
                    mod.weight.copy_(g(p + name + ".weight"))
                    mod.bias.copy_(g(p + name + ".bias"))
            if self.classifier:
                for mod, name in ((self.dense, "classifier.dense"), (self.out_proj, "classifier.out_proj")):
                    mod.weight.copy_(W[name + ".weight"])
                    mod.bias.copy_(W[name + ".bias"])

    def forward(self, ids, mask):
        pos = torch.cumsum(mask, 1) * mask + self.pad
        x = self.ln(self.word(ids) + self.pos(pos) + self.tok_type(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for L in self.layers:
            x = L(x, bias)
        return x


def batches(inputs, batch_size):
    order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i]))
    for s in range(0, len(order), batch_size):
        rows = order[s : s + batch_size]
        L = max(len(inputs[i]) for i in rows)
        ids = torch.full((len(rows), L), 1, dtype=torch.long)
        for r, i in enumerate(rows):
            ids[r, : len(inputs[i])] = torch.tensor(inputs[i])
        yield rows, ids, (ids != 1).long()


def run(model, inputs, batch_size, kind, pooling):
    out = [None] * len(inputs)
    with torch.inference_mode():
        for rows, ids, mask in batches(inputs, batch_size):
            h = model(ids, mask)
            if kind == "embed":
                if pooling == "cls":
                    v = h[:, 0]
                else:
                    m = mask[..., None].to(h.dtype)
                    v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                v = nn.functional.normalize(v.float(), dim=-1)
            else:
                v = model.out_proj(torch.tanh(model.dense(h[:, 0]))).float()[:, 0]
            for r, i in enumerate(rows):
                out[i] = v[r]
    return out


def baseline_parser(output_help):
    """The command line every baseline of engine_bench takes (this one and onnx_baseline.py)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", required=True, help="JSON written by engine_bench --dump-inputs")
    ap.add_argument("--embedder", required=True)
    ap.add_argument("--reranker", required=True)
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--output", help=output_help)
    return ap


def main():
    a = baseline_parser("result file (default: the inputs' baseline_output)").parse_args()
    torch.set_num_threads(a.threads)
    inp = json.load(open(a.inputs))
    results = {"threads": torch.get_num_threads(), "torch": torch.__version__, "runs": [], "check": {}}
    for kind, folder, prefix in (("embed", a.embedder, ""), ("rerank", a.reranker, "roberta.")):
        cfg = json.load(open(folder + "/config.json"))
        W = read_safetensors(folder + "/model.safetensors")
        pooling = "mean"
        if kind == "embed":
            pc = json.load(open(folder + "/1_Pooling/config.json"))
            pooling = "cls" if pc.get("pooling_mode_cls_token") else "mean"
        ids = inp[kind]
        tokens = sum(len(x) for x in ids)
        for dt in a.dtypes.split(","):
            model = XlmR(cfg, kind == "rerank").eval()
            model.load(W, prefix)
            if dt == "bfloat16":
                model = model.to(torch.bfloat16)
            run(model, ids[: a.batch_size], a.batch_size, kind, pooling)  # warm-up
            best = float("inf")
            for _ in range(a.repeat):
                t = time.perf_counter()
                out = run(model, ids, a.batch_size, kind, pooling)
                best = min(best, time.perf_counter() - t)
            results["runs"].append({"task": kind, "dtype": dt, "seconds": best, "tokens": tokens,
                                    "tokens_per_s": tokens / best})
            n = inp.get("check_count", 8)
            results["check"][f"{kind}/{dt}"] = [x.tolist() for x in out[:n]]
            print(f"pytorch {kind:6s} {dt:8s} {tokens / best:9.1f} tokens/s", flush=True)
        del W
    json.dump(results, open(a.output or inp["baseline_output"], "w"))


if __name__ == "__main__":
    main()
