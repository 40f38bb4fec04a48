#!/usr/bin/env python3
"""Recomputes the metrics of `skillmatch eval --out DIR` from its TREC files, independently.

Reads DIR/qrels.txt and every DIR/*.run, computes the InformationRetrievalEvaluator metrics
(accuracy/precision/recall/MRR/NDCG/MAP at the cut-offs named in metrics.json, plus hit rate)
and compares them with DIR/metrics.json. Exits 1 naming the first disagreement.
Standard library only.
"""
import glob
import json
import math
import os
import sys


def read_qrels(path):
    rel = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, _, doc, grade = line.split()
            if int(grade) > 0:
                rel.setdefault(qid, set()).add(doc)
    return rel


def read_runs(folder):
    runs = {}  # tag -> qid -> [(rank, score, doc)]
    for path in glob.glob(os.path.join(folder, "*.run")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                qid, q0, doc, rank, score, tag = line.split()
                assert q0 == "Q0", line
                runs.setdefault(tag, {}).setdefault(qid, []).append((int(rank), float(score), doc))
    return runs


def ranking(entries, where):
    entries = sorted(entries)
    ranks = [r for r, _, _ in entries]
    if ranks != list(range(1, len(entries) + 1)):
        raise SystemExit(f"{where}: ranks are not 1..{len(entries)}")
    for (_, a, _), (_, b, _) in zip(entries, entries[1:]):
        if b > a:
            raise SystemExit(f"{where}: scores increase along the ranking")
    return [doc for _, _, doc in entries]


def metrics_of(order, relevant, name):
    kind, k = name.split("@")
    k = int(k)
    top = order[:k]
    hits = [1 if d in relevant else 0 for d in top]
    if kind in ("accuracy", "hit_rate"):
        return 1.0 if any(hits) else 0.0
    if kind == "precision":
        return sum(hits) / k
    if kind == "recall":
        return sum(hits) / len(relevant)
    if kind == "mrr":
        return next((1.0 / (i + 1) for i, h in enumerate(hits) if h), 0.0)
    if kind == "ndcg":
        dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
        return dcg / ideal
    if kind == "map":
        found, total = 0, 0.0
        for i, h in enumerate(hits):
            if h:
                found += 1
                total += found / (i + 1)
        return total / min(k, len(relevant))
    raise SystemExit(f"unknown metric {name}")


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        report = json.load(f)
    qrels = read_qrels(os.path.join(folder, "qrels.txt"))
    runs = read_runs(folder)
    if len(qrels) != report["dataset"]["queries_evaluated"]:
        raise SystemExit(f"qrels has {len(qrels)} queries, metrics.json "
                         f"{report['dataset']['queries_evaluated']}")
    checked = 0
    for config in report["configurations"]:
        tag = "".join("_" if c in " \t\r\n" else c for c in config["name"])
        run = runs.get(tag, {})
        for name, expected in config["metrics"].items():
            total = 0.0
            for qid, relevant in qrels.items():
                order = ranking(run.get(qid, []), f"{tag} {qid}")
                total += metrics_of(order, relevant, name)
            got = total / len(qrels)
            if abs(got - expected) > 1e-12:
                raise SystemExit(f"{config['name']} {name}: run file gives {got!r}, "
                                 f"metrics.json says {expected!r}")
            checked += 1
    print(f"{checked} metric values of {len(report['configurations'])} configurations agree")


if __name__ == "__main__":
    main()
