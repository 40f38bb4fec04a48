#!/usr/bin/python3
"""Training pairs for skillmatch's default embedder, from the data shipped in data/ only.

Usage: scripts/default_model/make_pairs.py [--data DATA_DIR] --out OUT_DIR [--seed N]

Standard library only; deterministic for its seed (the same input gives the same bytes).

Writes to OUT_DIR:
  pairs.jsonl    sentence-transformers pairs {"anchor": query text, "positive": skill text}: the
                 skill side is rendered as skillmatch indexes a skill, "{label}: {description}"
                 (the trainer puts the "passage: " prompt before it, the query gets "query: "),
                 in German or English. Kinds (counts are printed):
                   alt-en      English alternative label -> the English skill, and, for half of
                               them (drawn by the seed), the German skill
                   alt-de      German alternative label -> the German skill
                   label-x     preferred label in one language -> the skill in the other
                   desc-x      description in one language -> the skill in the other
                   label       preferred label -> the skill in its own language
                   group       the label of a skill group (ESCO hierarchy) -> a skill below it,
                               in the group's language
                   course      a course-like text: a group's label and the descriptions of
                               3 to 5 skills below it -> one of those skills (de and en)
                   syllabus    a group's label and the labels of 3 to 5 skills below it -> one
                               of those skills (de and en)
                   occupation  an ESCO occupation's preferred or alternative label -> a skill the
                               occupation needs (ESCO's occupation-skill relations, English);
                               for a quarter of the essential skills also the label and the
                               occupation's description (a job ad) -> the skill
                   greta       a GRETA requirement -> its facet
  corpus.txt     every text once per line, for the SentencePiece vocabulary
  passages.jsonl every skill rendering {"text": ...} (the candidate pool for mining negatives)

Never read: data/eval. The English alternative labels that data/eval/esco-en-altlabels.jsonl
asks for are left out of every pair (they are read from that file only to exclude them).
"""
import argparse
import csv
import hashlib
import io
import json
import os
import random
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
EN_ZIP = "ESCO dataset - v1.1.0 - classification - en - csv.zip"
REL_ZIP = "ESCO dataset - v1.1.1 - relations - csv.zip"


def lines(field):
    return [x.strip() for x in (field or "").split("\n") if x.strip()]


def zip_csv(path, name):
    with zipfile.ZipFile(path) as z:
        with z.open(name) as f:
            return list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8")))


def stable_key(*parts):
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    # Held-out evaluation queries: (alternative label, skill URI), excluded from training.
    held_out = set()
    with open(os.path.join(a.data, "eval", "esco-en-altlabels.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                held_out.add((r["anchor"].strip().lower(), r["positive"]))

    de_csv = os.path.join(a.data, "esco-de-1.1.0", "skills_de_v1.1.0_enriched.csv")
    with open(de_csv, encoding="utf-8") as f:
        de = {r["conceptUri"]: r for r in csv.DictReader(f)}
    en_zip = os.path.join(a.data, "esco-en-1.1.0", EN_ZIP)
    en = {r["conceptUri"]: r for r in zip_csv(en_zip, "skills_en.csv")}
    uris = sorted(u for u in de if u in en)

    def passage(label, desc):
        return f"{label}: {desc}"

    p_de = {u: passage(de[u]["preferredLabel_de"].strip(), de[u]["description_de"].strip())
            for u in uris}
    p_en = {u: passage(en[u]["preferredLabel"].strip(), en[u]["description"].strip())
            for u in uris}

    pairs = []
    counts = {}

    def add(kind, anchor, positive):
        anchor = anchor.strip()
        if anchor and positive:
            pairs.append({"anchor": anchor, "positive": positive})
            counts[kind] = counts.get(kind, 0) + 1

    skipped_held_out = 0
    for u in uris:
        e, d = en[u], de[u]
        for alt in lines(e["altLabels"]):
            if (alt.lower(), u) in held_out:
                skipped_held_out += 1
                continue
            add("alt-en", alt, p_en[u])
            if rng.random() < 0.5:
                add("alt-en", alt, p_de[u])
        for alt in lines(d["altLabels_de"]):
            add("alt-de", alt, p_de[u])
        add("label-x", e["preferredLabel"], p_de[u])
        add("label-x", d["preferredLabel_de"], p_en[u])
        add("desc-x", e["description"], p_de[u])
        add("desc-x", d["description_de"], p_en[u])
        add("label", e["preferredLabel"], p_en[u])
        add("label", d["preferredLabel_de"], p_de[u])

    # Skill groups: a group's label -> each skill directly below it.
    def group_pairs(groups, broader, passages):
        label = {g["conceptUri"]: g["preferredLabel"].strip() for g in groups}
        for r in broader:
            u, parent = r["conceptUri"], r["broaderUri"]
            if u in passages and parent in label:
                add("group", label[parent], passages[u])

    de_dir = os.path.join(a.data, "esco-de-1.1.0")
    with open(os.path.join(de_dir, "skillGroups_de_v1.2.csv"), encoding="utf-8") as f:
        groups_de = list(csv.DictReader(f))
    with open(os.path.join(de_dir, "broaderRelationsSkillPillar_v1.2.csv"), encoding="utf-8") as f:
        broader = list(csv.DictReader(f))
    group_pairs(groups_de, broader, p_de)
    group_pairs(zip_csv(en_zip, "skillGroups_en.csv"), broader, p_en)

    # Course-like texts about 3 to 5 skills below one group (drawn by the seed) -> one of those
    # skills, in German and in English, four times over: the group's label and the skills'
    # descriptions (a course description), or the group's label and the skills' labels as a
    # list (a syllabus).
    def pseudo_courses(groups, passages, label_of, desc_of):
        label = {g["conceptUri"]: g["preferredLabel"].strip() for g in groups}
        below = {}
        for r in broader:
            if r["conceptUri"] in passages and r["broaderUri"] in label:
                below.setdefault(r["broaderUri"], []).append(r["conceptUri"])
        for round in range(4):
            for g in sorted(below):
                members = sorted(below[g])
                rng.shuffle(members)
                while len(members) >= 3:
                    n = min(len(members), rng.randint(3, 5))
                    part, members = members[:n], members[n:]
                    if round % 2 == 0:
                        text = label[g] + ". " + " ".join(desc_of(u) for u in part)
                        add("course", text, passages[rng.choice(part)])
                    else:
                        text = label[g] + ": " + " - ".join(label_of(u) for u in part)
                        add("syllabus", text, passages[rng.choice(part)])

    pseudo_courses(groups_de, p_de, lambda u: de[u]["preferredLabel_de"].strip(),
                   lambda u: de[u]["description_de"].strip())
    pseudo_courses(zip_csv(en_zip, "skillGroups_en.csv"), p_en,
                   lambda u: en[u]["preferredLabel"].strip(), lambda u: en[u]["description"].strip())

    # Occupations: a label of the occupation -> each skill it needs (essential or optional).
    rel_zip = os.path.join(a.data, "esco-en-1.1.0", REL_ZIP)
    occupations = zip_csv(en_zip, "occupations_en.csv")
    occ = {r["conceptUri"]: [r["preferredLabel"].strip()] + lines(r["altLabels"])
           for r in occupations}
    occ_desc = {r["conceptUri"]: r["description"].strip() for r in occupations}
    for r in zip_csv(rel_zip, "occupationSkillRelations.csv"):
        names, u = occ.get(r["occupationUri"]), r["skillUri"]
        if names and u in p_en:
            add("occupation", rng.choice(names), p_en[u])
            # A job ad's text: the title and what the job is, for an essential skill.
            if r["relationType"] == "essential" and occ_desc.get(r["occupationUri"]) and \
                    rng.random() < 0.25:
                add("occupation", rng.choice(names) + ". " + occ_desc[r["occupationUri"]], p_en[u])

    # GRETA: each requirement of a facet -> the facet as skillmatch renders it.
    with open(os.path.join(a.data, "greta", "greta_facets_de.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            reqs = [x.strip() for x in r["requirements"].split("|") if x.strip()]
            facet = passage(r["facet_name"].strip(), "; ".join(reqs))
            for q in reqs:
                add("greta", q, facet)
            add("greta", r["facet_name"], facet)

    # A fixed order that mixes the kinds (the trainer shuffles again per epoch).
    pairs.sort(key=lambda p: stable_key(p["anchor"], p["positive"], str(a.seed)))
    with open(os.path.join(a.out, "pairs.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    texts = sorted({p["anchor"] for p in pairs} | {p["positive"] for p in pairs})
    with open(os.path.join(a.out, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
        for t in texts:
            f.write(t.replace("\n", " ") + "\n")
    with open(os.path.join(a.out, "passages.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for t in sorted(set(p_de.values()) | set(p_en.values())):
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}); "
          f"{skipped_held_out} held-out alternative labels left out; {len(texts)} distinct texts")


if __name__ == "__main__":
    main()
