#!/usr/bin/python3
"""The untrained starting point of skillmatch's default embedder: a SentencePiece unigram
vocabulary learned from the training texts, and a sentence-transformers folder around it with an
XLM-R configuration and no weights (`skillmatch train embedder` then starts from transformers'
random initialisation).

Usage: scripts/default_model/make_base.py CORPUS.txt OUT_DIR [--vocab 16000] [--layers 0]
           [--hidden 256] [--heads 4] [--ffn 1024] [--max-seq-length 256]

Needs python3-sentencepiece (build time only: skillmatch reads the vocabulary with its own
tokenizer). The vocabulary follows XLMRobertaTokenizer's layout: SentencePiece ids 0-2 are
<unk>, <s>, </s>; the model's ids are <s>=0, <pad>=1, </s>=2, <unk>=3, then every piece one
above its SentencePiece id, and <mask> last, so vocab_size = pieces + 2.
"""
import argparse
import json
import os

import sentencepiece as spm


def dump(obj, path):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=16000)
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--max-seq-length", type=int, default=256)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "2_Normalize"), exist_ok=True)

    # The model file records the trainer's options, paths included: train inside OUT_DIR on
    # fixed names so that the same corpus gives the same bytes wherever it lies. A fixed thread
    # count: the EM sums are then done in the same order on every machine.
    corpus = os.path.abspath(a.corpus)
    here = os.getcwd()
    os.chdir(a.out)
    try:
        if os.path.lexists("corpus.txt"):
            os.remove("corpus.txt")
        os.symlink(corpus, "corpus.txt")
        spm.SentencePieceTrainer.train(
            input="corpus.txt", model_prefix="spm", vocab_size=a.vocab, model_type="unigram",
            character_coverage=0.9999, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            normalization_rule_name="nmt_nfkc_cf", num_threads=2, minloglevel=2)
        os.replace("spm.model", "sentencepiece.bpe.model")
        os.remove("spm.vocab")
        os.remove("corpus.txt")
    finally:
        os.chdir(here)

    pad, bos, eos = 1, 0, 2
    dump({
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "vocab_size": a.vocab + 2, "hidden_size": a.hidden, "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads, "intermediate_size": a.ffn, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 514, "type_vocab_size": 1, "initializer_range": 0.02,
        "layer_norm_eps": 1e-05, "pad_token_id": pad, "bos_token_id": bos, "eos_token_id": eos,
        "position_embedding_type": "absolute", "torch_dtype": "float32",
    }, os.path.join(a.out, "config.json"))
    dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
          "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
          "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"},
         os.path.join(a.out, "tokenizer_config.json"))
    dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
          "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"},
         os.path.join(a.out, "special_tokens_map.json"))
    dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
          {"idx": 1, "name": "1", "path": "1_Pooling",
           "type": "sentence_transformers.models.Pooling"},
          {"idx": 2, "name": "2", "path": "2_Normalize",
           "type": "sentence_transformers.models.Normalize"}],
         os.path.join(a.out, "modules.json"))
    dump({"max_seq_length": a.max_seq_length, "do_lower_case": False},
         os.path.join(a.out, "sentence_bert_config.json"))
    dump({"word_embedding_dimension": a.hidden, "pooling_mode_cls_token": False,
          "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
          "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
          "pooling_mode_lasttoken": False, "include_prompt": True},
         os.path.join(a.out, "1_Pooling", "config.json"))
    dump({"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
          "similarity_fn_name": "cosine"},
         os.path.join(a.out, "config_sentence_transformers.json"))
    print(f"{a.out}: {a.vocab}-piece unigram vocabulary, {a.layers} layer(s), hidden {a.hidden}")


if __name__ == "__main__":
    main()
