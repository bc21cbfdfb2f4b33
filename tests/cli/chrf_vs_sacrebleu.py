#!/usr/bin/env python3
"""`torchzoo bleu -m chrf` against the sacrebleu package (2.6.0) on generated corpora.

Each case writes a hypothesis file and one or two reference files from a seeded
random.Random -- words, punctuation, accents, CJK, emoji, Unicode whitespace, empty
lines, upper case -- and runs both CLIs on them (chrF, chrF++, --chrf-lowercase, 1 and 2
references, width 1 and 12). The outputs must be equal but for the version field
of the signature ("2.6.0+torchzoo").

    python3 tests/cli/chrf_vs_sacrebleu.py --bin build/torchzoo
"""
import argparse
import pathlib
import random
import subprocess
import sys
import tempfile

WORDS = ("the a of to and in is was for on that with cat dog house tree river city road Straße grün "
         "Übung café naïve ÉCOLE 東京 数据 😀 don't it's (hi) \"ok\" end. yes! no? well, 3.14 1,000 - -- ...").split()
SPACES = [" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009"]


def sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(0, 14))]
    if rng.random() < 0.2:
        words = [w.upper() for w in words]
    out = ""
    for i, w in enumerate(words):
        out += (rng.choice(SPACES) if i else "") + w
    return out


def perturb(rng, line):
    words = line.split()
    for _ in range(rng.randint(0, 4)):
        if words and rng.random() < 0.5:
            words.pop(rng.randrange(len(words)))
        else:
            words.insert(rng.randint(0, len(words)), rng.choice(WORDS))
    return " ".join(words)


def run(command, stdin_path=None):
    with open(stdin_path, "rb") if stdin_path else open("/dev/null", "rb") as stdin:
        done = subprocess.run(command, stdin=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"FAILED: {' '.join(command)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    rng = random.Random(18)
    failures = 0
    cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for case in range(12):
            n = rng.randint(1, 40)
            refs0 = [sentence(rng) for _ in range(n)]
            hyps = [perturb(rng, r) if rng.random() < 0.8 else sentence(rng) for r in refs0]
            refs1 = [perturb(rng, r) for r in refs0]
            (tmp / "hyp").write_text("\n".join(hyps) + "\n", encoding="utf-8")
            (tmp / "ref0").write_text("\n".join(refs0) + "\n", encoding="utf-8")
            (tmp / "ref1").write_text("\n".join(refs1) + "\n", encoding="utf-8")
            refs = [str(tmp / "ref0")] + ([str(tmp / "ref1")] if case % 3 == 2 else [])
            for flags in ([], ["--chrf-lowercase"], ["--chrf-word-order", "2"], ["-w", "12"], ["-f", "text", "-w", "12"]):
                sacre_flags = flags
                ours = run([args.bin, "bleu", *refs, "-m", "chrf", *flags], tmp / "hyp")
                theirs = run(["sacrebleu", *refs, "-i", str(tmp / "hyp"), "-m", "chrf", *sacre_flags])
                cases += 1
                if ours.replace("2.6.0+torchzoo", "2.6.0") != theirs:
                    failures += 1
                    print(f"case {case} {flags}: differs\n  ours:   {ours!r}\n  theirs: {theirs!r}")
        # Several metrics at once: sacreBLEU's JSON list.
        ours = run([args.bin, "bleu", str(tmp / "ref0"), "-m", "bleu", "chrf", "--lowercase"], tmp / "hyp")
        theirs = run(["sacrebleu", str(tmp / "ref0"), "-i", str(tmp / "hyp"), "-m", "bleu", "chrf", "-lc"])
        cases += 1
        if ours.replace("2.6.0+torchzoo", "2.6.0") != theirs:
            failures += 1
            print(f"bleu and chrf: differs\n  ours:   {ours!r}\n  theirs: {theirs!r}")
    print(f"{cases - failures}/{cases} outputs equal sacreBLEU's")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
