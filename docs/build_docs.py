#!/usr/bin/env python3
"""Builds the HTML API reference with doxygen and fails on undocumented public classes.

    python3 docs/build_docs.py --out build/docs     # what `make docs` runs
    python3 docs/build_docs.py --source DIR --out OUT

Runs doxygen on DIR/docs/Doxyfile from DIR (default: this checkout) into OUT/html, then
reads doxygen's warning log (OUT/doxygen-warnings.log) and exits 1, printing them, if
  - a class, struct or union is not documented ("Compound X is not documented"), or
  - there is any other warning but an undocumented member (broken \\ref, bad markup, ...).
Undocumented members are written to OUT/undocumented-members.txt and counted, not failed
(docs/Doxyfile says why). Exits 2 when doxygen is missing or fails outright.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

# A warning starts with "FILE:LINE: warning: " (doxygen's default WARN_FORMAT) or, for
# warnings with no place, "warning: "; the lines up to the next such start continue it.
WARNING_START = re.compile(r"^(?:.*?:\d+: )?(?:warning|error): ")
UNDOCUMENTED_CLASS = re.compile(r"warning: Compound (\S+) is not documented\.")
UNDOCUMENTED_MEMBER = re.compile(r"warning: Member .* is not documented\.")


def read_warnings(text):
    warnings = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if WARNING_START.match(line) or not warnings:
            warnings.append(line)
        else:
            warnings[-1] += "\n" + line
    # Doxygen reports some warnings twice (once per pass); keep the first of each.
    return list(dict.fromkeys(warnings))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root holding docs/Doxyfile (default: this checkout)")
    parser.add_argument("--out", type=Path, required=True, help="output folder; the HTML goes to OUT/html")
    args = parser.parse_args()

    doxygen = shutil.which("doxygen")
    if doxygen is None:
        print("build_docs: doxygen not found (Debian package doxygen: bash scripts/setup.sh)", file=sys.stderr)
        return 2
    source = args.source.resolve()
    out = args.out.resolve()
    # A fresh folder: pages of classes that no longer exist must not linger.
    shutil.rmtree(out / "html", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "doxygen-warnings.log"
    log_path.unlink(missing_ok=True)

    start = time.monotonic()
    env = dict(os.environ, TORCHZOO_DOCS_OUT=str(out))
    run = subprocess.run([doxygen, "docs/Doxyfile"], cwd=source, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    if run.returncode != 0 or not (out / "html" / "index.html").is_file():
        print(run.stdout, end="", file=sys.stderr)
        print(f"build_docs: doxygen failed (exit {run.returncode}), no {out / 'html' / 'index.html'}", file=sys.stderr)
        return 2

    # The log has the warnings about the sources; those about the Doxyfile itself go to the output.
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    warnings = read_warnings(log + "\n" + run.stdout)
    members = [w for w in warnings if UNDOCUMENTED_MEMBER.search(w)]
    classes = [w for w in warnings if UNDOCUMENTED_CLASS.search(w)]
    others = [w for w in warnings if w not in members and w not in classes]
    (out / "undocumented-members.txt").write_text("".join(w + "\n" for w in members), encoding="utf-8")

    for w in classes + others:
        print(w, file=sys.stderr)
    if classes or others:
        print(f"build_docs: FAILED: {len(classes)} undocumented public classes, {len(others)} other warnings "
              f"(every public class needs a /// comment; see docs/Doxyfile)", file=sys.stderr)
        return 1
    print(f"build_docs: {out / 'html' / 'index.html'} in {seconds:.1f} s; {len(members)} undocumented members "
          f"listed in {out / 'undocumented-members.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
