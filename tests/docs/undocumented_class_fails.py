#!/usr/bin/env python3
"""The docs build (docs/build_docs.py) fails on an undocumented public class, and on other warnings.

    python3 tests/docs/undocumented_class_fails.py [--source DIR]

Copies what docs/Doxyfile reads (its INPUT: docs/ and the header folders) into a temporary
tree, then builds the docs there three times:
  1. as it is: must pass (so that the failures below come from what was planted);
  2. with an undocumented class appended to layers/layer_norm.h: must fail, naming the class;
  3. with a documented function whose comment has a broken \\ref: must fail, naming the target.
Any other outcome exits 1 with the build's output. Standard library only.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300
PLANTED_HEADER = "layers/layer_norm.h"
UNDOCUMENTED_CLASS = """
namespace torchzoo::layers {
class UndocumentedProbe {
 public:
  int value() const { return 0; }
};
}  // namespace torchzoo::layers
"""
BROKEN_REF = """
namespace torchzoo::layers {
/// Documented, but see \\ref NoSuchClassAnywhere.
int documented_probe();
}  // namespace torchzoo::layers
"""


class Failure(Exception):
    pass


def doxyfile_inputs(doxyfile):
    """The INPUT entries of a Doxyfile (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", doxyfile.read_text(encoding="utf-8"))
    match = re.search(r"^INPUT\s*=(.*)$", text, re.MULTILINE)
    if not match:
        raise Failure(f"no INPUT in {doxyfile}")
    return match.group(1).split()


def copy_inputs(source, tree):
    shutil.copytree(source / "docs", tree / "docs")
    for entry in doxyfile_inputs(source / "docs" / "Doxyfile"):
        path = source / entry
        if path.is_dir():
            # Headers only: FILE_PATTERNS is *.h.
            shutil.copytree(path, tree / entry, dirs_exist_ok=True,
                            ignore=lambda folder, names: [n for n in names if not (Path(folder, n).is_dir() or
                                                                                   n.endswith(".h"))])
        elif not (tree / entry).exists():
            raise Failure(f"docs/Doxyfile's INPUT names {entry}, which {source} lacks")


def build(tree, out):
    try:
        done = subprocess.run([sys.executable, str(tree / "docs" / "build_docs.py"), "--source", str(tree),
                               "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Failure(f"the docs build gave no answer in {TIMEOUT_S} s")
    return done.returncode, done.stdout


def expect_failure(tree, out, planted, pattern, what):
    header = tree / PLANTED_HEADER
    original = header.read_text(encoding="utf-8")
    header.write_text(original + planted, encoding="utf-8")
    try:
        code, output = build(tree, out)
    finally:
        header.write_text(original, encoding="utf-8")
    if code != 1 or not re.search(pattern, output):
        raise Failure(f"{what}: expected exit 1 and a line matching {pattern!r}, got exit {code}:\n{output}")
    line = next(l for l in output.splitlines() if re.search(pattern, l))
    print(f"{what}: the build fails (exit 1): {line.strip()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=REPO, help="repository root (default: this checkout)")
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="undocumented_class_") as tmp:
            tree, out = Path(tmp) / "src", Path(tmp) / "docs"
            copy_inputs(args.source.resolve(), tree)
            code, output = build(tree, out)
            if code != 0:
                raise Failure(f"the unchanged copy does not build (exit {code}):\n{output}")
            print("unchanged copy: the build passes")
            expect_failure(tree, out, UNDOCUMENTED_CLASS,
                           r"Compound torchzoo::layers::UndocumentedProbe is not documented", "undocumented class")
            expect_failure(tree, out, BROKEN_REF, r"NoSuchClassAnywhere", "broken \\ref")
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
