#!/usr/bin/python3
"""Loads a model folder written by skillmatch the way Python users' libraries read it, and checks
it with the independent float64 reference of make_fixtures.py (the team's fixture generator).

  check_model_folder.py FOLDER EXPECTED.json [MODEL_KEY]

For a bi-encoder (modules.json present): tokenizes with python3-sentencepiece from the folder's
sentencepiece.bpe.model, prepends the prompt named in config_sentence_transformers.json, runs the
encoder on model.safetensors, pools as 1_Pooling/config.json says and normalises when modules.json
has a Normalize module; compares ids and embeddings with EXPECTED["MODEL_KEY"]["cases"].
For a cross-encoder: scores every pair of EXPECTED["cases"] (ids as given) with the
classification head. Exits 1 with a message on the first disagreement beyond 1e-6."""
import json, os, struct, sys

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import xlmr_ids, encoder_forward, classify, BOS, EOS  # noqa: E402

TOL = 1e-6


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", f"{name}: dtype {t['dtype']}"
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"]).copy()
    return out


def fail(msg):
    print("check_model_folder: " + msg)
    sys.exit(1)


def main():
    folder, expected_file = sys.argv[1], sys.argv[2]
    key = sys.argv[3] if len(sys.argv) > 3 else None
    cfg = json.load(open(os.path.join(folder, "config.json")))
    W = read_safetensors(os.path.join(folder, "model.safetensors"))
    prefix = "roberta." if "roberta.embeddings.word_embeddings.weight" in W else ""
    expected = json.load(open(expected_file))
    checked = 0
    if os.path.exists(os.path.join(folder, "modules.json")):
        modules = [m["type"].split(".")[-1] for m in json.load(open(os.path.join(folder, "modules.json")))]
        pooling = json.load(open(os.path.join(folder, "1_Pooling", "config.json")))
        mode = "cls" if pooling["pooling_mode_cls_token"] else "mean"
        assert pooling["pooling_mode_mean_tokens"] == (mode == "mean")
        st = json.load(open(os.path.join(folder, "config_sentence_transformers.json")))
        max_len = json.load(open(os.path.join(folder, "sentence_bert_config.json")))["max_seq_length"]
        sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "sentencepiece.bpe.model"))
        prompts = {v: k for k, v in st["prompts"].items()}
        for case in expected[key]["cases"]:
            prompt = case["prompt"]
            if prompt and prompt not in prompts:
                fail(f"prompt {prompt!r} is not in config_sentence_transformers.json")
            ids = [BOS] + xlmr_ids(sp, prompt + case["text"])[: max_len - 2] + [EOS]
            if ids != case["ids"]:
                fail(f"ids of {case['text'][:40]!r} differ")
            hidden, mask = encoder_forward(W, cfg, [ids], prefix=prefix)
            if mode == "cls":
                v = hidden[:, 0]
            else:
                m = mask[..., None].double()
                v = (hidden * m).sum(1) / m.sum(1)
            if "Normalize" in modules:
                v = v / v.norm(dim=-1, keepdim=True).clamp(min=1e-12)
            diff = (v[0] - torch.tensor(case["embedding"], dtype=torch.float64)).abs().max().item()
            if diff > TOL:
                fail(f"embedding of {case['text'][:40]!r} differs by {diff}")
            checked += 1
    else:
        for case in expected["cases"]:
            hidden, _ = encoder_forward(W, cfg, [case["ids"]], prefix=prefix)
            score = float(classify(W, hidden)[0])
            if abs(score - case["score"]) > TOL:
                fail(f"score of {case['query'][:40]!r} differs by {abs(score - case['score'])}")
            checked += 1
    print(f"{checked} cases agree within {TOL}")


if __name__ == "__main__":
    main()
