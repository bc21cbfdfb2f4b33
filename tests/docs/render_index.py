#!/usr/bin/env python3
"""The API reference's index page, as headless Chromium renders it, lists the layers and models.

    python3 tests/docs/render_index.py [--source DIR] [--no-build] DOCS

Builds the reference into DOCS with docs/build_docs.py (which fails on an undocumented public
class), unless --no-build (DOCS is then e.g. the build/docs of `make docs`), then loads
DOCS/html/index.html in headless Chromium and checks
  - the DOM Chromium dumps: every layer and model module the reference documents
    (layers::XImpl, models::XImpl) is a link to its page named by its holder X, among them
    MultiHeadedAttention, PositionwiseFeedForward, LayerNorm, PatchEmbed and VitBlock, and the
    README's C++ examples are on the page;
  - a screenshot: a PNG of the window's size that is not blank (many colours, and a good part of
    the pixels differ from the background).
Prints what it checked; any failure says what is missing and exits 1. Standard library only.
"""
import argparse
import html.parser
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Present whatever else the reference holds: the layers of the list and the models.
REQUIRED_LINKS = ["MultiHeadedAttention", "PositionwiseFeedForward", "LayerNorm", "SublayerConnection", "PatchEmbed",
                  "Attention", "Mlp", "VitBlock", "EncoderDecoder", "VisionTransformer"]
# Lines of the README's examples that the page must show.
EXAMPLE_LINES = ["tl::MultiHeadedAttention attn(", "tm::VisionTransformer vit(", "find_package(torchzoo 0.1 REQUIRED"]
WINDOW = (1280, 2400)
TIMEOUT_S = 180


class Failure(Exception):
    pass


class Links(html.parser.HTMLParser):
    """(href, text) of every <a href> of a page."""

    def __init__(self):
        super().__init__()
        self.links = []
        self._href = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self._href = dict(attrs)["href"]
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def run(cmd, what, timeout=TIMEOUT_S):
    start = time.monotonic()
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"{what}: no answer after {timeout} s: {' '.join(map(str, cmd))}")
    if done.returncode != 0:
        raise Failure(f"{what} failed (exit {done.returncode}): {' '.join(map(str, cmd))}\n"
                      f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}")
    return done.stdout, time.monotonic() - start


def find_chromium(given):
    if given:
        return given
    for name in ("chromium", "chromium-headless-shell", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise Failure("Chromium not found (Debian package chromium: bash scripts/setup.sh)")


def chromium(binary, profile, *args):
    # --no-sandbox: the sandbox refuses to run as root (CI); --user-data-dir: a throwaway profile.
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
            f"--user-data-dir={profile}", *args]


def expected_links(html_dir):
    """Holder name -> page of every layer and model module the reference documents."""
    expected = {}
    for page in sorted(html_dir.glob("classtorchzoo_1_1*_1_1*Impl.html")):
        match = re.fullmatch(r"classtorchzoo_1_1(layers|models)_1_1(\w+)Impl\.html", page.name)
        if match:
            expected[match.group(2)] = page.name
    missing = [name for name in REQUIRED_LINKS if name not in expected]
    if missing:
        raise Failure(f"no class page for {', '.join(missing)} in {html_dir} (the reference lost them)")
    return expected


def check_dom(dom, html_dir):
    parser = Links()
    parser.feed(dom)
    links = {}
    for href, text in parser.links:
        links.setdefault(text, set()).add(href.split("#")[0])
    expected = expected_links(html_dir)
    problems = []
    for name, page in expected.items():
        if name not in links:
            problems.append(f"{name}: no link with that text")
        elif page not in links[name]:
            problems.append(f"{name}: links to {sorted(links[name])}, not {page}")
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    problems += [f"README example line {line!r} not on the page" for line in EXAMPLE_LINES if line not in text]
    if problems:
        raise Failure("index.html's layer and model lists are incomplete:\n  " + "\n  ".join(problems))
    return sorted(expected)


def png_pixels(data):
    """(width, height, rows of pixel tuples) of an 8-bit, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure("the screenshot is not a PNG file")
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks.setdefault(kind, body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or interlace != 0 or channels is None:
        raise Failure(f"screenshot PNG of a kind this check does not read (depth {depth}, colour type {colour}, "
                      f"interlace {interlace})")
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the row filter (PNG spec, section 9)
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def check_screenshot(path):
    if not path.is_file():
        raise Failure(f"Chromium wrote no screenshot at {path}")
    width, height, channels, rows = png_pixels(path.read_bytes())
    if (width, height) != WINDOW:
        raise Failure(f"screenshot is {width}x{height}, expected the window's {WINDOW[0]}x{WINDOW[1]}")
    counts = {}
    for row in rows:
        for x in range(0, len(row), channels):
            pixel = row[x:x + channels]
            counts[pixel] = counts.get(pixel, 0) + 1
    background = max(counts.values())
    inked = 1.0 - background / (width * height)
    if len(counts) < 16 or inked < 0.02:
        raise Failure(f"screenshot looks blank: {len(counts)} colours, {inked:.1%} of pixels off the background")
    return f"{width}x{height}, {len(counts)} colours, {inked:.1%} of pixels off the background"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("docs", type=Path, help="docs folder: the HTML is (or goes) in DOCS/html")
    parser.add_argument("--source", type=Path, default=REPO, help="repository root (default: this checkout)")
    parser.add_argument("--no-build", action="store_true", help="check DOCS as it is instead of building it")
    parser.add_argument("--chromium", help="the browser binary (default: chromium on PATH)")
    args = parser.parse_args()
    docs = args.docs.resolve()
    try:
        if not args.no_build:
            _, seconds = run([sys.executable, str(args.source / "docs" / "build_docs.py"), "--source", str(args.source),
                              "--out", str(docs)], "the docs build")
            print(f"docs built into {docs} in {seconds:.1f} s")
        index = docs / "html" / "index.html"
        if not index.is_file():
            raise Failure(f"no {index}: build the docs first (make docs)")
        binary = find_chromium(args.chromium)
        with tempfile.TemporaryDirectory(prefix="render_index_") as tmp:
            dom, seconds = run(chromium(binary, Path(tmp) / "profile", "--dump-dom", index.as_uri()),
                               "chromium --dump-dom")
            names = check_dom(dom.decode("utf-8", errors="replace"), docs / "html")
            print(f"DOM ({seconds:.1f} s): {len(names)} layers and models linked: {', '.join(names)}")
            shot = Path(tmp) / "index.png"
            _, seconds = run(chromium(binary, Path(tmp) / "profile", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                                      f"--screenshot={shot}", index.as_uri()), "chromium --screenshot")
            print(f"screenshot ({seconds:.1f} s): {check_screenshot(shot)}")
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
