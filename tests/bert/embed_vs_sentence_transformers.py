#!/usr/bin/env python3
"""`torchzoo embed` against sentence-transformers on the same folder and sentences.

    embed_vs_sentence_transformers.py --bin build/torchzoo --bert-dir build/tests/bert [--sentences 400]

Takes every tenth paragraph of the fixture's LibreOffice help test split (German, French,
Spanish, Japanese, Chinese; some longer than 128 pieces, so that sentence-transformers'
max_seq_length of 256 matters) plus a paragraph made longer than 256 pieces, embeds them
with `torchzoo embed -o FILE.npy` and with SentenceTransformer.encode (normalised, as the
folder's modules.json says), and fails unless every component agrees within 1e-5.
Prints "SKIPPED: ..." and exits 0 where the model package is not installed.
"""

import argparse
import os
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--bert-dir", required=True)
    parser.add_argument("--sentences", type=int, default=400)
    args = parser.parse_args()
    model = os.path.join(args.bert_dir, "minilm")
    skipped = os.path.join(model, "SKIPPED")
    if os.path.exists(skipped):
        print(open(skipped).read().strip())
        return 0
    import numpy as np
    from sentence_transformers import SentenceTransformer

    with open(os.path.join(args.bert_dir, "langid", "test.tsv"), encoding="utf-8") as f:
        texts = [line.rstrip("\n").split("\t", 1)[-1] for line in f][::10][: args.sentences]
    texts.append(" ".join(texts[:40]))  # beyond 256 pieces: truncated on both sides
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "e.npy")
        subprocess.run([args.bin, "embed", "--checkpoint", model, "-o", out, "--batch-size", "16"],
                       input="\n".join(texts) + "\n", text=True, check=True)
        ours = np.load(out)
    st = SentenceTransformer(model, device="cpu")
    theirs = st.encode(texts, batch_size=16, normalize_embeddings=False, convert_to_numpy=True)
    if ours.shape != theirs.shape:
        sys.exit(f"FAILED: torchzoo embed gave {ours.shape}, sentence-transformers {theirs.shape}")
    diff = float(np.abs(ours - theirs).max())
    cosine = float((ours * theirs).sum(1).min() / (np.linalg.norm(theirs, axis=1).max()))
    print(f"torchzoo embed vs sentence-transformers on {len(texts)} sentences (max_seq_length {st.max_seq_length}): "
          f"max |difference| {diff:.2e}, lowest cosine {cosine:.7f}")
    if diff >= 1e-5:
        sys.exit("FAILED: the embeddings differ by 1e-5 or more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
