#!/usr/bin/env python3
"""Language identification on the LibreOffice help test split: torchzoo's
trained classifier against langid.py (Lui & Baldwin 2012; PyPI `langid`)
restricted to the same languages, on the same texts, overall and by text
length (<= 20, 21-60, > 60 characters).

torchzoo's predictions come from `torchzoo predict --checkpoint F` on the
test texts (stdin, one per line); langid.py's from its pretrained model with
`set_languages` limited to the classes. Both are scored here the same way.

    python3 bench/run_langid.py --bin build/torchzoo \
        --checkpoint runs/langid_5/best.pt --test $(build/torchzoo data dir)/libreoffice-langid/test.tsv

Needs `pip install langid` (not part of set-up: only this benchmark uses it).
"""

import argparse
import subprocess
import sys
import time

BUCKETS = [("<=20", 0, 20), ("21-60", 21, 60), (">60", 61, 10**9)]


def accuracy_table(name, labels, predicted, texts):
    row = [name]
    total = sum(p == y for p, y in zip(predicted, labels)) / len(labels)
    row.append(f"{total:.4f}")
    for _, low, high in BUCKETS:
        idx = [i for i, t in enumerate(texts) if low <= len(t) <= high]
        acc = sum(predicted[i] == labels[i] for i in idx) / len(idx) if idx else float("nan")
        row.append(f"{acc:.4f} (n={len(idx)})")
    return total, row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="build/torchzoo")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--test", required=True, help="label<TAB>text file")
    args = parser.parse_args()
    try:
        import langid
    except ImportError:
        sys.exit("run_langid: this benchmark needs langid.py: python3 -m pip install langid")

    labels, texts = [], []
    with open(args.test, encoding="utf-8") as f:
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            labels.append(label)
            texts.append(text)
    classes = sorted(set(labels))

    start = time.monotonic()
    proc = subprocess.run([args.bin, "predict", "--checkpoint", args.checkpoint, "--device", "cpu"],
                          input="\n".join(texts) + "\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    ours_seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"run_langid: torchzoo predict failed (exit {proc.returncode}):\n{proc.stderr}")
    ours = [line.split("\t")[0] for line in proc.stdout.splitlines()]
    if len(ours) != len(texts):
        sys.exit(f"run_langid: torchzoo predict printed {len(ours)} lines for {len(texts)} texts")

    identifier = langid.langid.LanguageIdentifier.from_modelstring(langid.langid.model, norm_probs=True)
    identifier.set_languages(classes)
    start = time.monotonic()
    theirs = [identifier.classify(t)[0] for t in texts]
    theirs_seconds = time.monotonic() - start

    print(f"{len(texts)} test texts of {args.test}, classes {', '.join(classes)}")
    print("| model | accuracy | <=20 chars | 21-60 chars | >60 chars | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    ours_total, row = accuracy_table(f"torchzoo ({args.checkpoint})", labels, ours, texts)
    print("| " + " | ".join(row) + f" | {ours_seconds:.1f} |")
    from importlib.metadata import version
    theirs_total, row = accuracy_table(f"langid.py {version('langid')}, {len(classes)} languages", labels, theirs,
                                       texts)
    print("| " + " | ".join(row) + f" | {theirs_seconds:.1f} |")
    print(f"errors: torchzoo {1 - ours_total:.4f}, langid.py {1 - theirs_total:.4f} "
          f"(ratio {(1 - ours_total) / max(1 - theirs_total, 1e-12):.2f})")


if __name__ == "__main__":
    main()
