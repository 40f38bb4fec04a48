#!/usr/bin/python3
"""Builds training and held-out sets for the trainer from the shipped ESCO data (docs/training.md).

Usage: scripts/make_train_sets.py [--data DATA_DIR] [--out OUT_DIR] [--small TRAIN,EVAL]
       (defaults: data/ of this checkout, bench/out/train-sets)

Standard library only; deterministic (the same input gives the same bytes).

  esco-de-desc2label-train.jsonl  German ESCO description -> its preferred label (sentence-
                                  transformers triples, positive = the label as text) for the 90%
                                  of the skills whose SHA-1 of the URI is not 0 mod 10.
  esco-de-desc2label-eval.jsonl   the other 10%: description -> skill URI, for `skillmatch eval`
                                  (the held-out skills are never seen in training).
  esco-en-alt2label-train.jsonl   English alternative label -> preferred label, for every skill
                                  that data/eval/esco-en-altlabels.jsonl does not hold out.

--small TRAIN,EVAL,CORPUS keeps the first TRAIN training and EVAL evaluation lines of the German
sets (ordered by the hash) and writes esco-de-desc2label-corpus.csv: a taxonomy of CORPUS skills
(uri,label,description) made of the EVAL held-out skills and the first training skills, for
`skillmatch import custom` (what the quality test in tests/train_cli_test.cpp runs on).
"""
import argparse
import csv
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def key(uri):
    return int(hashlib.sha1(uri.encode("utf-8")).hexdigest(), 16)


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)} lines")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "bench", "out", "train-sets"))
    ap.add_argument("--small", default="")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    csv_path = os.path.join(a.data, "esco-de-1.1.0", "skills_de_v1.1.0_enriched.csv")
    with open(csv_path, encoding="utf-8") as f:
        skills = sorted(csv.DictReader(f), key=lambda r: key(r["conceptUri"]))

    train, held_out, train_skills, held_out_skills = [], [], [], []
    for r in skills:
        desc, label = r["description_de"].strip(), r["preferredLabel_de"].strip()
        if not desc or not label:
            continue
        if key(r["conceptUri"]) % 10 == 0:
            held_out.append({"anchor": desc, "positive": r["conceptUri"]})
            held_out_skills.append(r)
        else:
            train.append({"anchor": desc, "positive": label})
            train_skills.append(r)
    if a.small:
        n_train, n_eval, n_corpus = (int(x) for x in a.small.split(","))
        train, held_out = train[:n_train], held_out[:n_eval]
        corpus = held_out_skills[:n_eval] + train_skills[: n_corpus - n_eval]
        path = os.path.join(a.out, "esco-de-desc2label-corpus.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["uri", "label", "description"])
            for r in corpus:
                w.writerow([r["conceptUri"], r["preferredLabel_de"], r["description_de"]])
        print(f"{path}: {len(corpus)} skills")
    write(os.path.join(a.out, "esco-de-desc2label-train.jsonl"), train)
    write(os.path.join(a.out, "esco-de-desc2label-eval.jsonl"), held_out)
    if a.small:
        return

    eval_set = os.path.join(a.data, "eval", "esco-en-altlabels.jsonl")
    with open(eval_set, encoding="utf-8") as f:
        evaluated = {json.loads(line)["positive"] for line in f if line.strip()}
    alt = []
    for r in skills:
        label = r["preferredLabel_en"].strip()
        if r["conceptUri"] in evaluated or not label:
            continue
        for a_label in r["altLabels_en"].split("\n"):
            a_label = a_label.strip()
            if a_label and a_label != label:
                alt.append({"anchor": a_label, "positive": label})
    write(os.path.join(a.out, "esco-en-alt2label-train.jsonl"), alt)


if __name__ == "__main__":
    main()
