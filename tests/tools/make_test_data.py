#!/usr/bin/python3
"""Makes skillmatch's extra test data with Debian's python3-sentencepiece and python3-torch.

  tests/data/tokenize_golden.jsonl  ids of the real SentencePiece library for ~3,000 texts:
                                    ESCO German labels and descriptions, English text, and
                                    hand-written hard cases (Unicode normalisation, whitespace,
                                    unknown characters). {"text": ..., "ids": [...]} per line,
                                    ids in XLM-R numbering, without <s> </s>.
  tests/data/pytorch_model.bin      the embedder-cls fixture's weights saved by torch.save
                                    (PyTorch's zip format), to test loading a folder that has
                                    no model.safetensors.
  tests/data/esco_export_sample.zip a small ESCO export in the official layout: the first 60
                                    skills of skills_en.csv from the v1.1.0 English export and
                                    the green collection's members among them (deflated).
  tests/data/pooling_expected.json  embeddings of the embedder-cls weights under every pooling
                                    mode of sentence-transformers (max, mean_sqrt_len_tokens,
                                    weightedmean, lasttoken, cls+mean, mean without the prompt),
                                    in float64 with the fixtures' reference encoder
                                    (../shared/tools/make_fixtures.py).

Run from the repository root: /usr/bin/python3 tests/tools/make_test_data.py
"""
import csv
import json
import os
import random
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
DATA = os.path.join(ROOT, "..", "shared", "data")

HARD = [
    "", " ", "   ", "\t", "\n", "a", "ü", "Ü", "ß", "ẞ", "Straße", "STRASSE",
    "u\u0308ber", "\u00fcber", "ﬁnden ﬂach", "Ｆｕｌｌｗｉｄｔｈ １２３", "①②③", "ℌ𝔢𝔩𝔩𝔬",
    "e\u0301te\u0301", "Ångström", "x\u200by", "soft\u00adhyphen", "non\u00a0breaking space",
    "ideographic\u3000space", "  leading and trailing  ", "many     spaces", "tab\tseparated",
    "line\nbreaks\r\nand\rreturns", "😀 emoji 👩‍💻 zwj", "𝄞 music", "中文 日本語 한국어",
    "العربية עברית", "русский Ελληνικά", "ǅemal ǈubljana", "ﬀ ﬃ ﬄ", "™ © ®", "½ ¼ ¾",
    "x² y³", "C++ / C# / F#", "e-mail@example.org", "https://example.org/path?q=1",
    "Kurs: 100% praxisnah — inkl. Zertifikat!", "»Zitat« „Zitat“ ‚Zitat‘", "\u2028\u2029",
    "\x01\x02control\x7f", "\ufeffBOM", "a" * 300, "Donaudampfschifffahrtsgesellschaftskapitän",
    "IT-Sicherheit, KI & Co.", "\u0000nul",
]


def xlmr_ids(sp, text):
    unk = sp.unk_id()
    return [3 if i == unk else i + 1 for i in sp.encode(text)]


def main():
    sp = spm.SentencePieceProcessor(model_file=os.path.join(FIX, "tokenizer", "sentencepiece.bpe.model"))
    texts = list(HARD)
    rng = random.Random(7)
    with open(os.path.join(DATA, "esco_de_v1.1.0", "all_skills_de.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rng.sample(rows, 1500):
        texts.append(row["preferred_label"])
        texts.append(row["description"])
    # Random mixtures of characters seen in the data, to reach unusual paths of the lattice.
    alphabet = sorted({c for t in texts for c in t})
    for _ in range(300):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))
    out = os.path.join(ROOT, "tests", "data", "tokenize_golden.jsonl")
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": xlmr_ids(sp, t)}, ensure_ascii=False) + "\n")
    os.replace(out + ".tmp", out)
    print(f"{out}: {len(texts)} texts")

    import torch
    state = read_safetensors(os.path.join(FIX, "embedder-cls", "model.safetensors"))
    out = os.path.join(ROOT, "tests", "data", "pytorch_model.bin")
    torch.save(state, out + ".tmp")
    os.replace(out + ".tmp", out)
    print(f"{out}: {len(state)} tensors")
    make_pooling_expected(sp, state)
    make_esco_sample()


def make_esco_sample():
    import io
    import zipfile

    src = os.path.join(DATA, "esco_en_v1.1", "ESCO dataset - v1.1.0 - classification - en - csv.zip")
    with zipfile.ZipFile(src) as z:
        skills = list(csv.reader(io.TextIOWrapper(z.open("skills_en.csv"), encoding="utf-8")))
        green = list(csv.reader(io.TextIOWrapper(z.open("greenSkillsCollection_en.csv"), encoding="utf-8")))
    header, rows = skills[0], skills[1:]
    rows = rows[:60]
    uris = {r[1] for r in rows}
    uri_col = green[0].index("conceptUri")
    green_rows = [green[0]] + [r for r in green[1:] if r[uri_col] in uris]

    def to_csv(table):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(table)
        return buf.getvalue()

    out = os.path.join(ROOT, "tests", "data", "esco_export_sample.zip")
    with zipfile.ZipFile(out + ".tmp", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("skills_en.csv", to_csv([header] + rows))
        z.writestr("greenSkillsCollection_en.csv", to_csv(green_rows))
        z.writestr("README.txt", "sample of the ESCO v1.1.0 English export")
    os.replace(out + ".tmp", out)
    print(f"{out}: 60 skills, {len(green_rows) - 1} green")


def make_pooling_expected(sp, state):
    """sentence-transformers' Pooling.forward, written out in float64 over the reference encoder."""
    import torch

    sys.path.insert(0, os.path.join(ROOT, "..", "shared", "tools"))
    import make_fixtures as mf

    cfg = json.load(open(os.path.join(FIX, "embedder-cls", "config.json")))
    W = {k: v.numpy() for k, v in state.items()}
    prompt = "query: "
    texts = ["Einführung in die Buchhaltung", "Python für Einsteiger: Datenanalyse mit pandas",
             "", "Ü", "Kommunikation im Team und Konfliktlösung am Arbeitsplatz"]
    ids = [mf.encode_single(sp, prompt + t, 512) for t in texts]
    prompt_length = len(mf.encode_single(sp, prompt, 512)) - 1
    hidden, mask = mf.encoder_forward(W, cfg, ids)

    def masked_mean(m):
        mm = m[..., None].double()
        s = (hidden * mm).sum(1)
        return s, mm.sum(1).clamp(min=1e-9)

    def mode(name, m):
        if name == "cls":
            return hidden[:, 0]
        if name == "max":
            h = hidden.clone()
            h[m[..., None].expand_as(h) == 0] = -1e9
            return h.max(1).values
        if name == "mean":
            s, n = masked_mean(m)
            return s / n
        if name == "mean_sqrt_len_tokens":
            s, n = masked_mean(m)
            return s / n.sqrt()
        if name == "weightedmean":
            w = torch.arange(1, hidden.shape[1] + 1).double()[None, :, None] * m[..., None].double()
            return (hidden * w).sum(1) / w.sum(1).clamp(min=1e-9)
        if name == "lasttoken":
            last = m.sum(1) - 1
            return hidden[torch.arange(hidden.shape[0]), last]
        raise ValueError(name)

    def unit(v):
        return v / v.norm(dim=-1, keepdim=True).clamp(min=1e-12)

    no_prompt_mask = mask.clone()
    no_prompt_mask[:, :prompt_length] = 0
    cases = {}
    for name in ("max", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"):
        cases[name] = unit(mode(name, mask))
    cases["cls+mean"] = unit(torch.cat([mode("cls", mask), mode("mean", mask)], 1))
    cases["mean/include_prompt=false"] = unit(mode("mean", no_prompt_mask))
    out = {"prompt": prompt, "texts": texts, "prompt_length": prompt_length,
           "modes": {k: [[float(x) for x in row] for row in v] for k, v in cases.items()}}
    path = os.path.join(ROOT, "tests", "data", "pooling_expected.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    os.replace(path + ".tmp", path)
    print(f"{path}: {len(cases)} pooling modes")


def read_safetensors(path):
    """The F32 tensors of a safetensors file (the format is 8 bytes of header length, a JSON
    header, then the raw little-endian data)."""
    import struct

    import numpy as np
    import torch

    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    state = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[base + b : base + e], dtype="<f4").reshape(info["shape"])
        state[name] = torch.from_numpy(arr.copy())
    return state


if __name__ == "__main__":
    main()
