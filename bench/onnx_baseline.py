#!/usr/bin/python3
"""ONNX Runtime baseline for bench/engine_bench: the same models and inputs as
bench/pytorch_baseline.py, run the way fastembed, infinity and optimum users run them on CPU
(an ONNX export of the model in float32, onnxruntime's CPU execution provider).

This script only exports: it builds the XlmR encoder of pytorch_baseline.py (imported from this
folder), wraps it with the pooling + L2 normalisation (embedder) or the classifier head
(reranker) so that each graph ends in what the PyTorch baseline compares, exports both with
torch.onnx.export (float32, dynamic batch and sequence axes, int64 inputs `input_ids` and
`attention_mask`) into --cache, then replaces itself with bench/onnx_baseline.mjs, which runs them
with onnxruntime-node (`npm ci` in bench/onnx first) and writes the JSON.

torch.onnx.export serialises in C++, so Debian's python3-torch is enough; the `onnx` Python
package is not needed.

  /usr/bin/python3 bench/onnx_baseline.py --inputs bench-inputs.json --embedder DIR --reranker DIR \
      [--dtypes float32] [--batch-size 32] [--threads 2] [--repeat 1] [--output PATH] [--cache DIR]
"""
import hashlib
import json
import os
import re
import shutil
import sys
import warnings

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pytorch_baseline  # noqa: E402  (XlmR, read_safetensors, baseline_parser)

OPSET = 17  # the newest torch 1.13 offers; it has a LayerNormalization op


class EmbedGraph(nn.Module):
    """Encoder + pooling (CLS or masked mean) + L2 normalisation, as pytorch_baseline.run."""

    def __init__(self, encoder, pooling):
        super().__init__()
        self.encoder, self.pooling = encoder, pooling

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids, attention_mask)
        if self.pooling == "cls":
            v = h[:, 0]
        else:
            m = attention_mask[..., None].to(h.dtype)
            v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(v, dim=-1)


class RerankGraph(nn.Module):
    """Encoder + XLMRobertaForSequenceClassification's head on the CLS token: one logit per row."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask):
        h = self.encoder(input_ids, attention_mask)
        e = self.encoder
        return e.out_proj(torch.tanh(e.dense(h[:, 0])))[:, 0]


def pooling_of(folder):
    pc = json.load(open(os.path.join(folder, "1_Pooling/config.json")))
    return "cls" if pc.get("pooling_mode_cls_token") else "mean"


def cache_key(kind, folder, pooling):
    """What the exported graph depends on: the weights file (size, mtime), config.json, the
    pooling, torch's version and the export code (this file and pytorch_baseline.py)."""
    st = os.stat(os.path.join(folder, "model.safetensors"))
    h = hashlib.sha256()
    for part in (kind, os.path.realpath(folder), str(st.st_size), str(st.st_mtime_ns), pooling,
                 torch.__version__, str(OPSET)):
        h.update(part.encode() + b"\0")
    for path in (os.path.join(folder, "config.json"), __file__, pytorch_baseline.__file__):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def export(kind, folder, cache):
    """Returns the path of the cached .onnx for `folder`, exporting it first if needed."""
    pooling = pooling_of(folder) if kind == "embed" else "head"
    stem = f"{kind}-{os.path.basename(os.path.normpath(folder))}"
    path = os.path.join(cache, f"{stem}-{cache_key(kind, folder, pooling)}.onnx")
    if os.path.exists(path):
        return path
    print(f"onnxruntime: exporting {folder} to {path} ...", flush=True)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    encoder = pytorch_baseline.XlmR(cfg, kind == "rerank").eval()
    W = pytorch_baseline.read_safetensors(os.path.join(folder, "model.safetensors"))
    encoder.load(W, "roberta." if kind == "rerank" else "")
    del W
    model = EmbedGraph(encoder, pooling) if kind == "embed" else RerankGraph(encoder)
    # The example's shape is irrelevant (both axes are dynamic), its values must be valid ids.
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]])
    mask = (ids != 1).long()
    out_name = "embedding" if kind == "embed" else "logit"
    tmp = path + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns that it cannot infer shapes of traced constants; harmless here.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(
            model, (ids, mask), tmp, input_names=["input_ids", "attention_mask"],
            output_names=[out_name], opset_version=OPSET,
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                          "attention_mask": {0: "batch", 1: "sequence"}, out_name: {0: "batch"}})
    os.replace(tmp, path)
    # Older exports of the same model folder are ~1 GB each for base models: drop them.
    stale = re.compile(re.escape(stem) + r"-[0-9a-f]{16}\.onnx")
    for name in os.listdir(cache):
        if stale.fullmatch(name) and os.path.join(cache, name) != path:
            os.remove(os.path.join(cache, name))
    return path


def main():
    ap = pytorch_baseline.baseline_parser("result JSON; default: the inputs' onnx_output, else bench-onnx.json")
    ap.add_argument("--cache", default=os.path.join(HERE, "out", "onnx"),
                    help="folder for the exported .onnx files")
    # --dtypes, --batch-size, --threads, --repeat are for onnx_baseline.mjs; parsed here only to
    # reject typos early.
    a = ap.parse_args()

    script = os.path.join(HERE, "onnx_baseline.mjs")
    if not os.path.isdir(os.path.join(HERE, "onnx", "node_modules", "onnxruntime-node")):
        sys.exit(f"onnxruntime-node is not installed: run `npm ci` in {os.path.join(HERE, 'onnx')}")
    node = shutil.which("node")
    if node is None:
        sys.exit("node (v18 or newer) is not on PATH")

    os.makedirs(a.cache, exist_ok=True)
    embed_onnx = export("embed", a.embedder, a.cache)
    rerank_onnx = export("rerank", a.reranker, a.cache)

    # exec rather than a child process: the torch models' memory goes away, and the exit status
    # is node's.
    argv = [node, script, *sys.argv[1:], "--embed-onnx", embed_onnx, "--rerank-onnx", rerank_onnx]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(node, argv)


if __name__ == "__main__":
    main()
