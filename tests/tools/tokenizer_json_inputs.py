#!/usr/bin/python3
"""The inputs of the tokenizer.json golden files (tests/data/tokenizer_json/*_expected.jsonl).

  tokenizer_json_inputs.py                      prints {"text": ..., "text_pair"?: ...} per line
  tokenizer_json_inputs.py --merge IN IDS       prints IN's lines with the "ids" of IDS's lines

Inputs: every text of tests/data/tokenize_golden.jsonl as it is, with a trailing " ", "\\n",
U+FEFF or "\\t", with leading spaces, with its spaces tripled; the empty string and white-space-only
strings; texts with literal special tokens; pairs. Used by make_tokenizer_json_golden.sh.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WHITESPACE_ONLY = [
    "", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", " \n ", "\ufeff", " \ufeff", "\u3000",
    "\u00a0", "\u2028", "\u200b", "\x0b", "\x0c", "\u0085",
]

SPECIALS = ["<s>", "</s>", "<pad>", "<unk>", "<mask>"]


def special_texts():
    out = []
    for s in SPECIALS:
        out += [s, " " + s, s + " ", " " + s + " ", "  " + s + "  ", "Kurs " + s + " Python",
                "Kurs" + s + "Python", "Kurs " + s, s + " Kurs", "\t" + s + "\n", s + s,
                s + " " + s, "x  " + s, s + "\n", "\u00a0" + s]
    out += [
        "<s>Kurs</s>", "<s> Kurs </s>", "Ein <mask> zum Lernen.", "Ein<mask>.", "<mask>,",
        "<mas", "<<s>>", "</s></s>", "< s >", "<S>", "\uff1cs\uff1e", "\uff1cmask\uff1e",
        "<unk><unk>", "a <pad> b <unk> c <mask> d </s> e <s>", "<mask>\u3000<mask>",
        "Projekt<mask>management", "\u2003<mask>\u2003", "\ufeff<mask>",
    ]
    return out


def inputs():
    golden = []
    with open(os.path.join(ROOT, "tests", "data", "tokenize_golden.jsonl"), encoding="utf-8") as f:
        for line in f:
            golden.append(json.loads(line)["text"])
    rows = []
    for t in golden:
        rows.append({"text": t})
    for suffix in [" ", "\n", "\ufeff", "\t"]:
        rows += [{"text": t + suffix} for t in golden]
    rows += [{"text": "   " + t} for t in golden]
    rows += [{"text": t.replace(" ", "   ")} for t in golden if " " in t]
    rows += [{"text": t} for t in WHITESPACE_ONLY]
    rows += [{"text": t} for t in special_texts()]
    # Pairs: neighbours in the golden file (labels with descriptions), some with white space at
    # the ends or empty, some with special tokens.
    for i in range(0, 600, 2):
        rows.append({"text": golden[i], "text_pair": golden[i + 1]})
    for i in range(1000, 1040, 2):
        rows.append({"text": golden[i] + "\n", "text_pair": " " + golden[i + 1] + " "})
    rows += [
        {"text": "", "text_pair": ""},
        {"text": "Kurs", "text_pair": ""},
        {"text": "", "text_pair": "Kurs"},
        {"text": " ", "text_pair": "\n"},
        {"text": "query: <mask>", "text_pair": "passage: Python </s> Kurs"},
    ]
    return rows


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--merge":
        with open(sys.argv[2], encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        with open(sys.argv[3], encoding="utf-8") as f:
            ids = [json.loads(line)["ids"] for line in f]
        if len(rows) != len(ids):
            sys.exit(f"{len(rows)} inputs but {len(ids)} results")
        for r, i in zip(rows, ids):
            r["ids"] = i
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    for r in inputs():
        sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
