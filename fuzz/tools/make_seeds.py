#!/usr/bin/python3
"""Writes the seed inputs of the fuzz targets into fuzz/corpus/<target>/seed-*.

Seeds are real files of the repository (fixtures, test data, excerpts of data/) and hand-made
edge cases, kept small so that the fuzzers run fast. The binary seeds are made here: a tiny
SentencePiece model trained with a few custom normalization rules (so that it carries a small
precompiled character map), tokenizer.json files around it, safetensors files, a PyTorch
checkpoint and ZIP archives. Needs Debian's python3-sentencepiece and python3-torch:

    /usr/bin/python3 fuzz/tools/make_seeds.py

After fuzzing, the corpora are minimized with libFuzzer's -merge=1 (see fuzz/README.md), which
renames the files by their SHA-1; run this script again only to start a corpus afresh.
"""

import base64
import copy
import io
import json
import os
import struct
import sys
import tempfile
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPO, "fuzz", "corpus")
SEP = b"\n----\n"


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(REPO, path), "rb") as f:
        return f.read()


def head_lines(path, n):
    """The first n lines of a file."""
    return b"".join(read(path).splitlines(keepends=True)[:n])


def head_records(data, n):
    """The header and the first n - 1 records of CSV bytes (records may span lines)."""
    import csv
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[:n]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def parts(*chunks):
    return SEP.join(c.encode("utf-8") if isinstance(c, str) else c for c in chunks)


# ------------------------------------------------------------------ protobuf (enough to read)
def varint(data, pos):
    shift = value = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def fields(data):
    pos = 0
    while pos < len(data):
        tag, pos = varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = varint(data, pos)
            value, pos = data[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield number, wire, value


def spm_pieces_and_charsmap(model):
    pieces, charsmap = [], b""
    for number, _, value in fields(model):
        if number == 1:
            piece = {"text": "", "score": 0.0, "type": 1}
            for n, _, v in fields(value):
                if n == 1:
                    piece["text"] = v.decode("utf-8")
                elif n == 2:
                    piece["score"] = struct.unpack("<f", v)[0]
                elif n == 3:
                    piece["type"] = v
            pieces.append(piece)
        elif number == 3:
            for n, _, v in fields(value):
                if n == 2:
                    charsmap = v
    return pieces, charsmap


# ------------------------------------------------------------------ tokenizer files
def tiny_sentencepiece_models(workdir):
    import sentencepiece as spm

    texts = [json.loads(line)["text"] for line in open(os.path.join(
        REPO, "tests/data/tokenize_golden.jsonl"), encoding="utf-8")][:400]
    train = os.path.join(workdir, "train.txt")
    with open(train, "w", encoding="utf-8") as f:
        f.write("\n".join(t.replace("\n", " ") for t in texts if t.strip()))
    rules = os.path.join(workdir, "rules.tsv")
    with open(rules, "w") as f:
        # fi ligature, circled one, fullwidth A/a, ideographic and no-break space, A + grave.
        f.write("FB01\t66 69\n2460\t31\nFF21\t41\nFF41\t61\n3000\t20\n00A0\t20\n41 300\tC0\n")
    models = {}
    for name, extra in (("rules", {"normalization_rule_tsv": rules}),
                        ("identity", {"normalization_rule_name": "identity"}),
                        ("nodummy", {"normalization_rule_tsv": rules, "add_dummy_prefix": False,
                                     "remove_extra_whitespaces": False,
                                     "user_defined_symbols": ["<sep>", "C++"]})):
        prefix = os.path.join(workdir, name)
        spm.SentencePieceTrainer.train(input=train, model_prefix=prefix, vocab_size=60,
                                       model_type="unigram", hard_vocab_limit=False,
                                       character_coverage=0.98, minloglevel=2, **extra)
        with open(prefix + ".model", "rb") as f:
            models[name] = f.read()
    return models


def tokenizer_json_from(model, layout):
    """The tokenizer.json of skillmatch's writer (tests/data/tokenizer_json) around `model`."""
    template = json.loads(read("tests/data/tokenizer_json/%s/tokenizer.json" % layout))
    pieces, charsmap = spm_pieces_and_charsmap(model)
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
    vocab += [[p["text"], p["score"]] for p in pieces[3:]] + [["<mask>", 0.0]]
    j = copy.deepcopy(template)
    j["model"]["vocab"] = vocab
    for t in j["added_tokens"]:
        if t["content"] == "<mask>":
            t["id"] = len(vocab) - 1
    normalizers = j["normalizer"]["normalizers"]
    if charsmap:
        normalizers[0]["precompiled_charsmap"] = base64.b64encode(charsmap).decode()
    else:
        del normalizers[0]
    return j


def dumps(j):
    return json.dumps(j, ensure_ascii=False, indent=1)


def tokenizer_seeds(workdir):
    models = tiny_sentencepiece_models(workdir)
    for name, data in models.items():
        write("spm_model", name + ".model", data)
    current = tokenizer_json_from(models["rules"], "current")
    legacy = tokenizer_json_from(models["rules"], "legacy")
    write("tokenizer_json", "current.json", dumps(current))
    write("tokenizer_json", "legacy.json", dumps(legacy))
    write("tokenizer_json", "identity.json", dumps(tokenizer_json_from(models["identity"], "current")))
    # Other components skillmatch reads: RobertaProcessing, Prepend/Strip/Replace(String),
    # a Sequence pre-tokenizer with prepend_scheme "first", no decoder, added tokens with flags.
    other = copy.deepcopy(current)
    other["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                               "trim_offsets": True, "add_prefix_space": True}
    other["normalizer"]["normalizers"] += [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Strip", "strip_left": True, "strip_right": False},
        {"type": "Replace", "pattern": {"String": "ß"}, "content": "ss"}]
    other["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}]}
    del other["decoder"]
    other["added_tokens"] += [
        {"id": len(other["model"]["vocab"]), "content": "C++", "single_word": True,
         "lstrip": False, "rstrip": True, "normalized": True, "special": False},
        {"id": len(other["model"]["vocab"]) + 1, "content": " [SEP] ", "single_word": False,
         "lstrip": True, "rstrip": True, "normalized": False, "special": True}]
    write("tokenizer_json", "other.json", dumps(other))
    minimal = {"version": "1.0", "model": {"type": "Unigram", "unk_id": 0,
                                           "vocab": [["<unk>", 0.0], ["\u2581a", -1.5], ["b", -2.5e0]]}}
    write("tokenizer_json", "minimal.json", json.dumps(minimal))
    write("tokenizer_json", "bad-type.json", '{"model": {"type": "BPE", "vocab": {}}}')


def text_seeds():
    texts = [json.loads(line)["text"] for line in open(os.path.join(
        REPO, "tests/data/tokenize_golden.jsonl"), encoding="utf-8")]
    picks = [t for t in texts if t.strip()][:: max(1, len(texts) // 24)][:24]
    for i, t in enumerate(picks):
        write("tokenizer_text", "golden-%02d.txt" % i, t)
    write("tokenizer_text", "pair.txt", parts("Excel-Kurs für Einsteiger", "Tabellenkalkulation"))
    write("tokenizer_text", "specials.txt", parts("<s>a<mask> </s></s>", " <pad><unk>  "))
    write("tokenizer_text", "spaces.txt", parts(" \t\u3000 \u00a0x  y\n", "\ufeff"))
    write("tokenizer_text", "invalid-utf8.txt", b"abc \xff\xc3( \xe2\x82 \xf0\x9f\x98")


# ------------------------------------------------------------------ weights
def safetensors_bytes(tensors, metadata=None, pad=True):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def weight_seeds():
    f32 = struct.pack("<8f", *[0.5 * i for i in range(8)])
    write("safetensors", "two.safetensors", safetensors_bytes({
        "embeddings.word_embeddings.weight": ("F32", [4, 2], f32),
        "pooler.dense.bias": ("BF16", [2], b"\x80\x3f\x00\x40")}, {"format": "pt"}))
    write("safetensors", "dtypes.safetensors", safetensors_bytes({
        "a": ("F16", [1, 2], b"\x00\x3c\x00\x40"), "b": ("F64", [1], struct.pack("<d", 1.0)),
        "c": ("I64", [0, 3], b""), "d": ("BOOL", [], b"\x01"), "e": ("U8", [2], b"\x01\x02"),
        "f": ("I8", [1], b"\xff"), "g": ("I16", [1], b"\x01\x00"), "h": ("I32", [1], b"\x01\x00\x00\x00")},
        {"format": "pt", "note": "all dtypes"}, pad=False))
    write("safetensors", "empty-header.safetensors", safetensors_bytes({}))
    write("safetensors", "fixture-header.safetensors",
          read("tests/fixtures/embedder-mean/model.safetensors")[:4096])

    import torch
    buf = io.BytesIO()
    # Two entries at least: Python pickles a one-item dict with SETITEM, which libtorch's
    # unpickler does not know (it reads SETITEMS).
    torch.save({"embeddings.word_embeddings.weight": torch.arange(8, dtype=torch.float32).reshape(4, 2),
                "embeddings.LayerNorm.bias": torch.zeros(2, dtype=torch.bfloat16)}, buf)
    write("pytorch_bin", "state-dict.bin", buf.getvalue())
    buf = io.BytesIO()
    torch.save({"embeddings.word_embeddings.weight": torch.zeros(4, 2)}, buf)
    write("pytorch_bin", "one-entry.bin", buf.getvalue())
    buf = io.BytesIO()
    torch.save({"roberta.embeddings.word_embeddings.weight": torch.ones(4, 2, dtype=torch.float16),
                "classifier.out_proj.weight": torch.zeros(1, 2), "step": 7}, buf)
    write("pytorch_bin", "prefixed-f16.bin", buf.getvalue())
    buf = io.BytesIO()
    torch.save({"embeddings.word_embeddings.weight": torch.zeros(2, 4)}, buf,
               _use_new_zipfile_serialization=False)
    write("pytorch_bin", "legacy-format.bin", buf.getvalue())
    buf = io.BytesIO()
    torch.save([torch.zeros(1)], buf)
    write("pytorch_bin", "list.bin", buf.getvalue())
    # The target's other form: data.pkl and the storage records as parts (it stores them in a
    # valid archive itself, so that mutations of the pickle get past the CRCs).
    for name in ("state-dict", "prefixed-f16"):
        with open(os.path.join(CORPUS, "pytorch_bin", "seed-%s.bin" % name), "rb") as f:
            with zipfile.ZipFile(io.BytesIO(f.read())) as z:
                records = sorted((n for n in z.namelist() if "/data/" in n),
                                 key=lambda n: int(n.rsplit("/", 1)[1]))
                write("pytorch_bin", name + ".parts",
                      parts(z.read("archive/data.pkl"), *(z.read(n) for n in records)))


# ------------------------------------------------------------------ model folders
def model_seeds():
    for name in ("embedder-mean", "reranker"):
        write("model_config", name + ".json", read("tests/fixtures/%s/config.json" % name))
    write("model_config", "roberta.json", json.dumps({
        "model_type": "roberta", "architectures": ["RobertaForSequenceClassification"],
        "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 20, "id2label": {"0": "a", "1": "b"},
        "layer_norm_eps": 1e-12, "pad_token_id": 1}))
    files = ["config.json", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
             "1_Pooling/config.json", "sentence_bert_config.json",
             "config_sentence_transformers.json"]
    for name in ("embedder-mean", "embedder-cls", "reranker"):
        chunks = []
        for f in files:
            path = os.path.join(REPO, "tests/fixtures", name, f)
            chunks.append(read(os.path.join("tests/fixtures", name, f)) if os.path.exists(path) else b"")
        write("model_folder", name + ".txt", parts(*chunks))
    st_only = [read("tests/fixtures/embedder-mean/config.json"), '{"model_max_length": 1000000000000000019884624838656}', "",
               json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                           {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                           {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]),
               '{"word_embedding_dimension": 32, "pooling_mode": "mean_sqrt_len", "include_prompt": false}',
               '{"max_seq_length": 128, "do_lower_case": false}',
               '{"prompts": {"query": "query: ", "passage": ""}, "default_prompt_name": "query", "similarity_fn_name": "dot"}']
    write("model_folder", "subfolder.txt", parts(*st_only))


# ------------------------------------------------------------------ CSV, ZIP, JSON Lines
def zip_bytes(entries, method=zipfile.ZIP_DEFLATED, comment=b""):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in entries:
            z.writestr(name, data)
        z.comment = comment
    return buf.getvalue()


def table_seeds():
    write("csv", "greta.csv", head_lines("data/greta/greta_facets_de.csv", 6))
    write("csv", "esco-enriched.csv", head_records(read("data/esco-de-1.1.0/skills_de_v1.1.0_enriched.csv"), 6))
    write("csv", "techwolf.csv", head_lines("data/eval/techwolf-jobs-en.csv", 8))
    write("csv", "edge.csv", b'\xef\xbb\xbfa,"b ""q""",c\r\n1,"multi\nline",\r\n\r\n,,\n"x"y,2,3\n')
    write("csv", "unterminated.csv", b'a,b\n1,"open\n')
    write("csv", "nul.csv", b"a,b\n1,x\x00y\n")
    write("csv", "width.csv", b"a,b\n1\n")
    write("csv", "invalid-utf8.csv", b"a,b\n\xc3(,\xff\n")
    write("csv", "cr-only.csv", b"a,b\r1,2\r3,4")

    sample = read("tests/data/esco_export_sample.zip")
    write("zip", "esco-sample.zip", sample)
    write("zip", "stored.zip", zip_bytes([("a.csv", b"x,y\n1,2\n"), ("dir/", b""), ("b.txt", b"")],
                                         zipfile.ZIP_STORED, b"comment"))
    write("zip", "deflated.zip", zip_bytes([("a.csv", b"x,y\n" + b"1,2\n" * 50)]))
    write("zip", "empty.zip", zip_bytes([]))

    write("jsonl", "wdb.jsonl", head_lines("data/eval/wdb-courses-de.jsonl", 2))
    write("jsonl", "altlabels.jsonl", head_lines("data/eval/esco-en-altlabels.jsonl", 5))
    write("jsonl", "edge.jsonl", b'{"text": "a"}\r\n\n   \n{"text": 1}\n{"id": [1, {"x": null}], "text": "\\u00fc\\ud83d\\ude00"}')
    write("jsonl", "not-object.jsonl", b'[1, 2]\n')
    write("jsonl", "invalid.jsonl", b'{"text": "a\n')
    write("jsonl", "invalid-utf8.jsonl", b'{"text": "\xc3("}\n')


# ------------------------------------------------------------------ evaluation datasets
def dataset_seeds():
    s1 = "http://data.europa.eu/esco/skill/s1"
    write("dataset_triples", "altlabels.jsonl", head_lines("data/eval/esco-en-altlabels.jsonl", 3))
    lines = [
        {"anchor": "Excel für Einsteiger", "positive": s1, "negative": "Python"},
        {"query": "Programmierkurs", "positive": ["Python", "  GRETA-1-2-3 ", "unbekannt"], "id": 7},
        {"anchor": "Excel für Einsteiger", "positive": "Tabellenkalkulation verwenden: Mit Excel Tabellen erstellen"},
        {"anchor": "Japanisch", "positive": ["日本語"], "id": "q-ja"},
    ]
    write("dataset_triples", "sample.jsonl", "\n".join(json.dumps(l, ensure_ascii=False) for l in lines) + "\n")
    write("dataset_triples", "no-positive.jsonl", '{"anchor": "x", "positive": []}\n')

    write("dataset_labels", "techwolf.csv", head_lines("data/eval/techwolf-jobs-en.csv", 6))
    write("dataset_labels", "sample.csv",
          "text,label\nExcel-Kurs,Tabellenkalkulation verwenden\nExcel-Kurs,Python\n"
          "\"Kurs, mit Komma\",%s\nJapanisch,日本語\nleer,unbekannt\n" % s1)
    write("dataset_labels", "blank-label.csv", "text,label\nx, \n")

    queries = '{"_id": "q1", "text": "Excel-Kurs"}\n{"_id": "q2", "text": "Python lernen"}\n{"_id": "q3", "text": "nichts"}\n'
    corpus = ('{"_id": "%s", "title": "", "text": ""}\n{"_id": "d2", "title": "Python", "text": "x"}\n'
              '{"_id": "d3", "title": "?", "text": "Lernprozesse begleiten: Lernende beraten; Feedback geben"}\n'
              '{"_id": "d4", "title": "unbekannt"}\n' % s1)
    qrels = "query-id\tcorpus-id\tscore\nq1\t%s\t1\nq2\td2\t2\nq2\td3\t0.5\nq3\td4\t1\nq1\td2\t0\n" % s1
    write("dataset_beir", "sample.txt", parts(queries, corpus, qrels))
    write("dataset_beir", "crlf-score.txt", parts(queries, corpus, "q1\td2\t1e0\r\nq2\td2\tx\r\n"))


# ------------------------------------------------------------------ taxonomies
def taxonomy_seeds():
    enriched = head_records(read("data/esco-de-1.1.0/skills_de_v1.1.0_enriched.csv"), 6)
    groups = head_records(read("data/esco-de-1.1.0/skillGroups_de_v1.2.csv"), 6)
    broader = head_lines("data/esco-de-1.1.0/broaderRelationsSkillPillar_v1.2.csv", 8)
    write("taxonomy_esco", "enriched.txt", parts(enriched, groups, broader))
    with zipfile.ZipFile(io.BytesIO(read("tests/data/esco_export_sample.zip"))) as z:
        names = z.namelist()
        official = {n: z.read(n) for n in names}
    skills_name = next(n for n in names if os.path.basename(n).startswith("skills_"))
    official_skills = head_records(official[skills_name], 6)
    write("taxonomy_esco", "official.txt", parts(official_skills, "conceptUri,preferredLabel,code\n", "conceptUri,broaderUri\n"))
    write("taxonomy_esco", "plain.txt", parts(
        "concept_uri,preferred_label,description\nu1,Label,Beschreibung\nu2,\" Zwei \",\n", "", ""))

    # The official export, in German names (skillmatch reads entries by language).
    de = [(n.replace("_en.csv", "_de.csv"), d) for n, d in official.items()]
    write("taxonomy_esco_zip", "sample-de.zip", zip_bytes(de))
    small = [("skills_de.csv", official_skills),
             ("greenSkillsCollection_de.csv", b"conceptUri,preferredLabel\nu1,x\n"),
             ("broaderRelationsSkillPillar_de.csv", b"conceptUri,broaderUri\nu1,g1\n"),
             ("skillGroups_de.csv", b"conceptUri,preferredLabel,code\ng1,Gruppe,S1\n")]
    write("taxonomy_esco_zip", "small-stored.zip", zip_bytes(small, zipfile.ZIP_STORED))
    # The target's other form: the CSV files as parts (skills, groups, hierarchy, green
    # collection), which it stores in a valid archive itself.
    green = next(d for n, d in de if n.endswith("greenSkillsCollection_de.csv"))
    write("taxonomy_esco_zip", "official.parts", parts(official_skills, "", "", green))
    write("taxonomy_esco_zip", "small.parts",
          parts(official_skills, small[3][1], small[2][1], small[1][1]))

    write("taxonomy_greta", "greta.csv", head_lines("data/greta/greta_facets_de.csv", 8))
    write("taxonomy_greta", "bad-code.csv",
          "greta_code,facet_name,area_name,aspect_name,requirements\nGRETA-1,f,a,b,r\n")

    write("taxonomy_custom", "custom.csv",
          "uri,label,description,alt_labels,skill_type,id,name,synonyms\n"
          "u1, Excel ,Tabellen,\"a|b| a |\",tool,i1,n1,x|y\nu2,Python,,,,i2,n2,\n")
    write("taxonomy_custom", "custom.jsonl",
          '{"uri": "u1", "label": "Excel", "alt_labels": ["a", " b "], "id": "i1", "name": "n"}\n'
          '{"uri": "u2", "label": "Python", "alt_labels": "x|y", "description": null, "skill_type": "k", '
          '"id": "i2", "name": "m", "synonyms": "p,q"}\n')


# ------------------------------------------------------------------ options and the Hub
def option_seeds():
    write("options_text", "match.txt", "match\nembedder=e5,reranker=bge,mode=hybrid,fusion=weighted,"
          "dense-weight=0.25,rrf_k=60,bm25-weights=3,2,1,candidates=50,top=5,threshold=-0.5,gap=yes,"
          "rerank=off,template={label}: {description} ({alt_labels}),rerank-template={label} {uri},"
          "max-length=256,query-max-length=64,pair-truncation=longest-first,ann=true,ef-search=64,"
          "taxonomy=esco,collection=green,digital,skill-type=knowledge,group=S1.2,dtype=bfloat16,"
          "batch-size=8,auto-index=false")
    write("options_text", "embed.txt", "embed\nmodel=x,prompt=query,prompt-text=query: ,normalize=0,truncate=1,dtype=auto")
    write("options_text", "rerank.txt", "rerank\nmodel=x,max-length=4,query_max_length=1,pair-truncation=flagembedding")
    write("options_text", "tokenize.txt", "tokenize\nmodel=x,max-length=1073741824")
    write("options_text", "index.txt", "index\nembedder=x,template={taxonomy}{uri}{,ann=on,ann-m=4,ann-ef-construction=10000,group=a,,b")
    write("options_text", "bad.txt", "match\ntop=0x10,threshold=nan,rrf-k=1e999,=x,a")
    write("options_json", "match.json", 'match\n' + json.dumps({
        "embedder": "e5", "mode": "bm25", "top": 5, "candidates": 1000.0, "threshold": 0.5,
        "dense_weight": 1, "bm25_weights": "1,0,0", "gap": True, "taxonomy": ["esco", "greta"],
        "collection": "green", "template": "{label}", "ef_search": 1e2, "name": "ignored"}))
    write("options_json", "embed.json", 'embed\n{"prompt": "query", "prompt_text": "q: ", "normalize": false, "batch_size": 4096}')
    write("options_json", "rerank.json", 'rerank\n{"max_length": 8192, "query_max_length": 1, "pair_truncation": "longest-first"}')
    write("options_json", "tokenize.json", 'tokenize\n{"max_length": 4}')
    write("options_json", "index.json", 'index\n{"ann": true, "ann_m": 256, "ann_ef_construction": 4, "filter": 1}')
    write("options_json", "types.json", 'match\n[1, -1, 1.5, "x", null, true, {"a": []}]')
    write("options_json", "model.json", 'embed\n{"model": "refused"}')

    siblings = [{"rfilename": f} for f in ("config.json", "model.safetensors", "pytorch_model.bin",
                                           "sentencepiece.bpe.model", "tokenizer.json",
                                           "1_Pooling/config.json", "README.md")]
    body = json.dumps({"sha": "0123456789abcdef0123456789abcdef01234567", "siblings": siblings})
    write("hub_answers", "fake-hub.txt", parts(body, '"etag-123"', "3050"))
    write("hub_answers", "weak-etag.txt", parts('{"sha": "abc", "siblings": [{"rfilename": "config.json"}, {"rfilename": "tokenizer.json"}]}', 'W/"abc"', "0"))
    write("hub_answers", "no-tokenizer.txt", parts('{"sha": "abc", "siblings": [{"rfilename": "config.json"}]}', "", "12"))


def http_request(method, path, body=None, headers=(), auth=True, chunked=False, length=None):
    """A request as a client sends it (CRLF lines), with the fuzz service's API key."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: localhost"]
    if auth:
        lines.append("Authorization: Bearer fuzz-key")
    lines += list(headers)
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else (
            body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8"))
        lines.append("Content-Type: application/json")
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            half = len(data) // 2
            data = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (data[:half], data[half:]) if c)
            data += b"0\r\n\r\n"
        else:
            lines.append("Content-Length: %d" % (len(data) if length is None else length))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + data


def http_seeds():
    """Requests of every route of `skillmatch serve` (fuzz/http_request.cpp), valid and not."""
    t = "http_request"
    text = "Die Studierenden können Daten analysieren und Berichte schreiben."
    seeds = {
        "embed": http_request("POST", "/embed", {"inputs": text}),
        "embed-batch": http_request("POST", "/embed", {
            "inputs": [text, "Teamarbeit"], "normalize": False, "truncate": True,
            "truncation_direction": "Left", "prompt_name": "query"}),
        "embed-ids": http_request("POST", "/embed", {"inputs": [[0, 1000, 2], [0, 5, 2]]}),
        "embed-root": http_request("POST", "/", {"inputs": "Statistik"}),
        "embed-too-long": http_request("POST", "/embed", {"inputs": "wort " * 300}),
        "openai": http_request("POST", "/v1/embeddings", {"input": [text], "model": "x"}),
        "openai-base64": http_request("POST", "/embeddings", {
            "input": "Statistik", "encoding_format": "base64"}),
        "rerank": http_request("POST", "/rerank", {
            "query": "Datenanalyse", "texts": ["Statistik", "Kochen"], "raw_scores": True,
            "return_text": True}),
        "similarity": http_request("POST", "/similarity", {"inputs": {
            "source_sentence": "Datenanalyse", "sentences": ["Statistik", "Kochen"]}}),
        "tokenize": http_request("POST", "/tokenize", {
            "inputs": [text, "x"], "add_special_tokens": False}),
        "tokenize-pair": http_request("POST", "/tokenize", {"inputs": [["Frage", "Antwort"]]}),
        "decode": http_request("POST", "/decode", {
            "ids": [0, 100, 200, 2], "skip_special_tokens": False}),
        "match": http_request("POST", "/v1/match", {"text": text, "top": 3, "explain": True}),
        "match-outcomes": http_request("POST", "/v1/match", {
            "learning_outcomes": ["Daten analysieren", "Berichte schreiben"], "mode": "bm25",
            "rerank": False}),
        "match-batch": http_request("POST", "/v1/match/batch", {
            "items": [{"id": "a", "text": text}, {"id": 7, "text": "Teamarbeit"}], "top": 2}),
        "match-batch-texts": http_request("POST", "/v1/match/batch", {"texts": ["Statistik"]}),
        "feedback": http_request("POST", "/v1/feedback", {
            "text": text, "accepted": [1, 3], "rejected": [2],
            "added": [], "request_id": "r1"}),
        "skills": http_request("GET", "/v1/skills?q=data&limit=5&taxonomy=esco-en"),
        "skill": http_request("GET", "/v1/skills/1"),
        "skill-huge-id": http_request("GET", "/v1/skills/99999999999999999999999"),
        "taxonomies": http_request("GET", "/v1/taxonomies"),
        "feedback-export": http_request("GET", "/v1/feedback/export?template=%7Blabel%7D"),
        "health-info-metrics": http_request("GET", "/health", auth=False)
        + http_request("GET", "/info") + http_request("GET", "/metrics"),
        "page": http_request("GET", "/", auth=False) + http_request("GET", "/app.js", auth=False),
        "preflight": http_request("OPTIONS", "/embed", headers=[
            "Origin: https://editor.example", "Access-Control-Request-Method: POST"]),
        "no-key": http_request("POST", "/embed", {"inputs": "x"}, auth=False),
        "wrong-key": http_request("POST", "/embed", {"inputs": "x"}, auth=False,
                                  headers=["Authorization: Bearer nope"]),
        "invalid-json": http_request("POST", "/embed", '{"inputs": ["a", }'),
        "not-object": http_request("POST", "/v1/match", '["text"]'),
        "wrong-types": http_request("POST", "/rerank", {"query": 1, "texts": "a"}),
        "invalid-utf8": http_request("POST", "/tokenize", b'{"inputs": "\xff\xfe"}'),
        "huge-content-length": http_request("POST", "/embed", {"inputs": "x"},
                                            length=1 << 40),
        "short-body": http_request("POST", "/embed", {"inputs": "abc"}, length=100),
        "chunked": http_request("POST", "/v1/match", {"text": text}, chunked=True),
        "bad-method": b"BREW /embed HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "no-route": http_request("DELETE", "/v1/skills/1"),
        "http10-keep-alive": b"GET /health HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
        + http_request("GET", "/v1/taxonomies"),
        "expect-continue": http_request("POST", "/decode", {"ids": [5]},
                                        headers=["Expect: 100-continue"]),
        "range": http_request("GET", "/app.js", auth=False, headers=["Range: bytes=0-10"]),
        "request-id": http_request("GET", "/health", auth=False,
                                   headers=["X-Request-Id: abc-123", "Connection: close"]),
        "malformed": b"GET\r\n\r\n",
    }
    for name, data in seeds.items():
        write(t, name, data)


def main():
    if sys.argv[1:] == ["http_request"]:  # only the HTTP seeds (no sentencepiece, torch)
        http_seeds()
        return 0
    with tempfile.TemporaryDirectory() as workdir:
        tokenizer_seeds(workdir)
    text_seeds()
    weight_seeds()
    model_seeds()
    table_seeds()
    dataset_seeds()
    taxonomy_seeds()
    option_seeds()
    http_seeds()
    total = 0
    for root, _, files in os.walk(CORPUS):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print("seeds written to %s (%d bytes in all)" % (CORPUS, total))


if __name__ == "__main__":
    sys.exit(main())
