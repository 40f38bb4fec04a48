#!/usr/bin/python3
"""Builds the evaluation sets in data/eval/ from the public data in shared/data.

Usage: scripts/make_eval_sets.py [SHARED_DATA_DIR] [OUT_DIR]
       (defaults: ../shared/data beside the checkout, data/eval)

Standard library only; the output is deterministic (same input, same bytes), so that a test can
check that the committed files are what this script makes.

  esco-en-altlabels.jsonl  ESCO skill normalisation: an English alternative label -> its skill
                           (sentence-transformers triples, positive = skill URI). One label per
                           skill for a fixed 1-in-7 sample of the skills that have alternative
                           labels, chosen by a hash of the URI.
  wdb-courses-de.jsonl     19 German course descriptions (title + description) -> the ESCO skills
                           that the WDB/FOKUS student project predicted (NN and ER relations).
                           SILVER labels: model output, not human judgements.
  techwolf-jobs-en.csv     Job titles -> ESCO v1.2.0 English skill labels (labels CSV), a fixed
                           1-in-20 sample of the TechWolf validation titles by hash. SILVER labels;
                           labels that ESCO v1.1 does not have stay unresolved (reported by eval).
"""
import csv
import hashlib
import io
import json
import os
import sys
import zipfile

ESCO_ZIP = "esco_en_v1.1/ESCO dataset - v1.1.0 - classification - en - csv.zip"


def bucket(key, n):
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % n


def write_jsonl(path, records):
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


def esco_altlabels(shared, out):
    with zipfile.ZipFile(os.path.join(shared, ESCO_ZIP)) as z:
        text = z.read("skills_en.csv").decode("utf-8")
    rows = sorted(csv.DictReader(io.StringIO(text)), key=lambda r: r["conceptUri"])
    records = []
    for r in rows:
        if bucket(r["conceptUri"], 7) != 0:
            continue
        pref = r["preferredLabel"].strip().lower()
        alts = [a.strip() for a in r["altLabels"].split("\n") if a.strip()]
        alts = [a for a in alts if a.lower() != pref]
        if not alts:
            continue
        alt = alts[bucket(r["conceptUri"] + "#alt", len(alts))]
        records.append({"anchor": alt, "positive": r["conceptUri"]})
    write_jsonl(os.path.join(out, "esco-en-altlabels.jsonl"), records)
    return len(records)


def wdb_courses(shared, out):
    base = os.path.join(shared, "wdb_brandenburg_courses_de")
    skills = {}
    for name in ("all_relations_NN_control.csv", "all_relations_ER_control.csv"):
        with open(os.path.join(base, name), encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                skills.setdefault(r["course_id"], []).append(r["concept_uri"])
    records = []
    with open(os.path.join(base, "all_courses_control.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            uris = sorted(set(skills.get(r["course_id"], [])))
            if not uris:
                continue
            text = r["course_name"].strip() + "\n\n" + r["course_description"].strip()
            records.append({"id": r["course_id"], "anchor": text, "positive": uris})
    write_jsonl(os.path.join(out, "wdb-courses-de.jsonl"), records)
    return len(records)


def techwolf_jobs(shared, out):
    path = os.path.join(shared, "techwolf_job_skill_val", "job_skill_val.slim.jsonl")
    rows = 0
    titles = 0
    target = os.path.join(out, "techwolf-jobs-en.csv")
    with open(path, encoding="utf-8") as f, open(target + ".tmp", "w", encoding="utf-8",
                                                 newline="") as o:
        w = csv.writer(o, lineterminator="\n")
        w.writerow(["text", "label"])
        for line in f:
            r = json.loads(line)
            if bucket(r["title"], 20) != 0:
                continue
            titles += 1
            for s in r["skills"]:
                w.writerow([r["title"], s])
                rows += 1
    os.replace(target + ".tmp", target)
    return titles, rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "data")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "data", "eval")
    os.makedirs(out, exist_ok=True)
    print("esco-en-altlabels.jsonl:", esco_altlabels(shared, out), "queries")
    print("wdb-courses-de.jsonl:", wdb_courses(shared, out), "courses")
    print("techwolf-jobs-en.csv: %d titles, %d rows" % techwolf_jobs(shared, out))


if __name__ == "__main__":
    main()
