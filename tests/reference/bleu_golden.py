#!/usr/bin/env python3
"""Golden values for torchzoo's BLEU (train/metrics/bleu.h), from the sacrebleu package.

    python3 tests/reference/bleu_golden.py --out DIR         # write DIR/bleu/*
    python3 tests/reference/bleu_golden.py --emit-cpp-tables  # print train/metrics/bleu.cpp's Unicode tables

Every set is generated from fixed strings and a seeded random.Random, so the
files are the same on every run. Corpus cases go through sacreBLEU the way its
CLI goes (`sacrebleu REF... -i HYP`): files are read with
sacrebleu.utils.smart_open and rstrip(), then BLEU(...).corpus_score(); a few
cases are also run through the CLI itself and its stdout must equal the
formatted scores written here. (Cases that differ only in smoothing or
effective order share one run of BLEU._extract_corpus_statistics.)

Files in DIR/bleu (text is UTF-8; "hex" is the hex of a UTF-8 string, so that
any character, '\\n' and '\\r' included, survives line-based parsing):

  <case>.hyp, <case>.ref0 [, <case>.ref1]   the corpus, as files
  results.txt      one line per corpus case, space-separated key=value:
                   name nrefs lowercase tokenize smooth_method smooth_value
                   (or "none") max_ngram_order effective_order, then sacrebleu's
                   score bp ratio sys_len ref_len, and comma-separated
                   precisions counts totals; floats in repr (round-trip exact)
  <case>.text      the CLI's `-f text` line, <case>.json its default JSON
  <case>.widths    "width is_json hex(output)" for `-w 0`, `-w 2`, `-w 3`
  sentences.txt    sentence_score cases: hex(hyp) hex(ref0)[,hex(ref1)] effective_order
                   score bp sys_len ref_len precisions hex(text line)
  tokenize_13a.txt hex(input) hex(Tokenizer13a()(input))
  read_lines.raw   a file with CRLF, lone CR, trailing and Unicode whitespace, BOM, no final newline
  read_lines.txt   hex of each line sacreBLEU reads from it, one per line
  lower_map.txt    "cp hex(chr(cp).lower())" for every code point that str.lower() changes
  sigma_classes.txt  "first last class" ranges: how a code point next to a capital
                   sigma steers str.lower()'s final-sigma rule (C = cased,
                   I = case-ignorable; the rest neither), found by probing str.lower()
"""

import argparse
import copy
import logging
import os
import random
import subprocess
import sys
import unicodedata

import sacrebleu
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.utils import smart_open

EXPECTED_SACREBLEU = "2.6.0"
SIGMA = "\u03a3"
FINAL_SIGMA = "\u03c2"

# --------------------------------------------------------------------------- words

WORDS = (
    "the a of to and in is was for on that with as by at from it be this are have not "
    "cat dog house tree river city road car train plane ship bird fish horse cow "
    "run runs ran walk walked see saw look looked make made take took give gave "
    "big small red blue green old new good bad long short high low early late "
    "Monday Tuesday January February Paris London Berlin Tokyo Europe Asia "
    "government president minister parliament election vote law court police "
    "market price company bank money percent year month week day hour minute "
    "Haus Straße groß Größe über Mädchen Bäume schön Fußball weiß Öl Ärger "
    "東京 日本 中国 北京 学生 先生 电脑 世界 "
    "😀 🚀 🎉 naïve café résumé façade coöperate "
    "U.S. e.g. i.e. Dr. Mr. Mrs. don't it's we're l'homme "
    "1 2 3 10 42 100 1,000 3.14 2019 1990s 3-4 5-year-old 12:30 50% $5 €10 #1 @user"
).split()

PUNCT = list('.,;:!?"()[]{}<>-/\'&*+=|~^_`@#$%')
ENTITIES = ["&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "&amp;quot;", "&"]
SPACES = [" ", " ", " ", " ", "\u00a0", "\u2009", "\u3000", "\t", "  "]


def random_sentence(rng, n):
    if n == 0:
        return ""
    words = [rng.choice(WORDS) for _ in range(n)]
    out = []
    for w in words:
        r = rng.random()
        if r < 0.08:
            w += rng.choice(PUNCT)
        elif r < 0.10:
            w = rng.choice(ENTITIES) + w
        out.append(w)
    sent = out[0]
    for w in out[1:]:
        sent += rng.choice(SPACES) + w
    return sent + rng.choice([".", ".", "?", "!", "", " ."])


def add_noise(rng, sent, p):
    """A 'translation' of sent: words dropped, replaced, inserted, swapped, recased."""
    words = sent.split()
    out = []
    for w in words:
        r = rng.random()
        if r < p / 4:
            continue
        if r < p / 2:
            out.append(rng.choice(WORDS))
        elif r < 3 * p / 4:
            out.extend([w, rng.choice(WORDS)])
        elif r < p:
            out.append(w.upper() if rng.random() < 0.5 else w.lower())
        else:
            out.append(w)
    if len(out) > 2 and rng.random() < p:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


# --------------------------------------------------------------------------- cases


def fixed_cases():
    """(name, hyps, refs streams, options) of hand-written corpora."""
    cases = []

    def add(name, hyps, refs, **options):
        cases.append((name, hyps, refs, options))

    add("basic",
        ["The cat sat on the mat.", "It is a nice day today!", "He read the book because he was interested."],
        [["The cat is sitting on the mat.", "Today is a nice day!", "He was interested in the book so he read it."]])
    add("perfect", ["A perfect match, with punctuation.", "Zwei Wörter mehr: groß und klein."],
        [["A perfect match, with punctuation.", "Zwei Wörter mehr: groß und klein."]])
    add("empty_lines",
        ["", "the house is small", "", "a green tree near the river", "nothing matches here at all"],
        [["", "the house is very small", "an empty hypothesis", "", "a green tree near the river bank"]])
    add("all_empty_hyps", ["", "", ""], [["a reference line", "another one", ""]])
    add("all_empty", ["", ""], [["", ""]])
    add("no_matches", ["alpha beta gamma delta", "epsilon zeta"], [["one two three four five", "six seven"]])
    add("zero_high_orders",  # matches at orders 1-2 only: exp smoothing at 3 and 4
        ["the cat ran home fast", "dog blue big house"], [["the cat walked home slowly", "dog red small house"]])
    add("short_hyps",  # no 4-grams at all in the hypotheses
        ["the cat", "a dog ran"], [["the cat is here now", "a dog ran away quickly"]])
    for name in ("zero_high_orders", "short_hyps"):  # every smoothing where orders lack matches or n-grams
        _, hyps, refs, _ = next(case for case in cases if case[0] == name)
        add(f"{name}_smooth_none", hyps, refs, smooth_method="none")
        add(f"{name}_floor", hyps, refs, smooth_method="floor")
        add(f"{name}_floor_0.25", hyps, refs, smooth_method="floor", smooth_value=0.25)
        add(f"{name}_add_k", hyps, refs, smooth_method="add-k")
        add(f"{name}_effective_order", hyps, refs, effective_order=True)
        add(f"{name}_effective_order_floor", hyps, refs, effective_order=True, smooth_method="floor")
    add("unicode",
        ["Die Größe des Hauses ist schön\u00a0– über alles.", "東京 は 大きい 都市 です 🚀",
         "Fußball\u2009macht\u3000Spaß 😀 😀", "Ærø naïve café\u202frésumé"],
        [["Die Größe des Hauses ist schön – über alles!", "東京 は 大きな 都市 です 🚀",
          "Fußball macht Spaß 😀", "Ærø naive café résumé"]])
    add("unicode_lowercase",
        ["ΟΔΟΣ ΣΟΦΟΣ Σ. ÄPFEL İstanbul STRASSE", "Die GRÖSSE Der Welt", "ΣΑΣ ΑΣ's ὈΔΥΣΣΕΎΣ"],
        [["οδος σοφος σ. äpfel i\u0307stanbul strasse", "die größe der welt", "σας ας's ὀδυσσεύς"]],
        lowercase=True)
    add("punctuation_13a",
        ['He paid $1,000.50 for 3-4 items, i.e. "cheap" &amp; fast.',
         "Call 555-1234 or see www.example.com/path?x=1&amp;y=2 (page 7).",
         "&quot;Quoted&quot; &lt;tag&gt; <skipped> text... end,start.next 5.",
         "A.B,C 1.5,2.5 -3 3- a-b a-3 3-a {x} [y] ~z^ _w_ `v` |u| @t #s %r"],
        [['He paid $1,000.50 for 3-4 items, i.e. "cheap" & fast!',
          "Call 555 - 1234 or see www.example.com / path ? x = 1 & y = 2 (page 7).",
          "\"Quoted\" <tag> text ... end , start . next 5 .",
          "A . B , C 1.5,2.5 - 3 3 - a-b a-3 3 - a { x } [ y ] ~ z ^ _ w _ ` v ` | u | @ t # s % r"]])
    add("two_refs",
        ["The quick brown fox jumps over the lazy dog.", "I like green apples", ""],
        [["A quick brown fox jumped over the lazy dog.", "I love green apples", "empty hyp"],
         ["The fast brown fox jumps over a lazy dog.", "I like apples that are green", ""]])
    add("two_refs_closest_tie",  # hyp of 4 tokens, refs of 3 and 5: the shorter wins
        ["one two three four"], [["one two three"], ["one two three four five"]])
    return cases


def generated_cases():
    rng = random.Random(20240607)
    cases = []
    long_refs = [random_sentence(rng, rng.randint(300, 600)) for _ in range(6)]
    long_hyps = [add_noise(rng, r, 0.15) for r in long_refs]
    cases.append(("long_sentences", long_hyps, [long_refs], {}))

    refs = [random_sentence(rng, rng.randint(0, 40)) for _ in range(1000)]
    hyps = [add_noise(rng, r, rng.choice([0.0, 0.1, 0.3, 0.6])) for r in refs]
    for i in rng.sample(range(1000), 30):
        hyps[i] = ""
    refs2 = [add_noise(rng, r, 0.2) for r in refs]
    cases.append(("random_1000", hyps, [refs], {}))
    cases.append(("random_1000_two_refs", hyps, [refs, refs2], {}))
    cases.append(("random_1000_lowercase", hyps, [refs], {"lowercase": True}))
    cases.append(("random_1000_tok_none", hyps, [refs], {"tokenize": "none"}))
    cases.append(("random_1000_smooth_none", hyps, [refs], {"smooth_method": "none"}))
    cases.append(("random_1000_floor", hyps, [refs], {"smooth_method": "floor"}))
    cases.append(("random_1000_add_k", hyps, [refs], {"smooth_method": "add-k"}))
    cases.append(("random_1000_add_k_0.5", hyps, [refs], {"smooth_method": "add-k", "smooth_value": 0.5}))
    cases.append(("random_1000_order_2", hyps, [refs], {"max_ngram_order": 2}))
    cases.append(("random_1000_order_6", hyps, [refs], {"max_ngram_order": 6}))
    cases.append(("random_1000_effective_order", hyps, [refs], {"effective_order": True}))

    refs3k = [random_sentence(rng, rng.randint(5, 50)) for _ in range(3000)]
    hyps3k = [add_noise(rng, r, 0.3) for r in refs3k]
    cases.append(("random_3000", hyps3k, [refs3k], {}))
    return cases


# CLI flags of the options, for the cases also run through the CLI.
def cli_flags(options):
    flags = []
    if options.get("lowercase"):
        flags.append("-lc")
    if "tokenize" in options:
        flags += ["-tok", options["tokenize"]]
    if "smooth_method" in options:
        flags += ["-s", options["smooth_method"]]
    if "smooth_value" in options:
        flags += ["-sv", str(options["smooth_value"])]
    return flags


CLI_CASES = ["basic", "two_refs", "unicode_lowercase", "zero_high_orders_floor_0.25", "random_1000_add_k_0.5"]
CLI_JSON_CASES = ["two_refs", "random_1000_add_k_0.5"]


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            assert "\n" not in line and "\r" not in line, line
            f.write(line + "\n")


def read_like_cli(path):
    return [line.rstrip() for line in smart_open(path)]


def floats(xs):
    return ",".join(repr(float(x)) for x in xs)


def ints(xs):
    return ",".join(str(int(x)) for x in xs)


def corpus_case(out, name, hyps, ref_streams, options):
    write_lines(os.path.join(out, f"{name}.hyp"), hyps)
    for k, stream in enumerate(ref_streams):
        write_lines(os.path.join(out, f"{name}.ref{k}"), stream)
    # Read back as the CLI does, so that the C++ side (read_lines) sees the same.
    hyps = read_like_cli(os.path.join(out, f"{name}.hyp"))
    ref_streams = [read_like_cli(os.path.join(out, f"{name}.ref{k}")) for k in range(len(ref_streams))]
    # BLEU.corpus_score(hyps, None) in its two steps, to keep the summed
    # integer statistics (compute_bleu adds add-k's k to the counts it
    # reports) and to reuse them across cases that differ only in smoothing.
    bleu = BLEU(**options)
    segments = segment_statistics(hyps, ref_streams, options)
    stats = [sum(seg[i] for seg in segments) for i in range(len(segments[0]))]
    score = bleu._aggregate_and_compute(copy.deepcopy(segments))
    bleu.num_refs = len(ref_streams)  # what _cache_references sets, for the signature
    signature = bleu.get_signature()
    text = score.format(width=1, signature=signature.format())
    with open(os.path.join(out, f"{name}.text"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    js = score.format(width=1, signature=signature.format(), is_json=True)
    with open(os.path.join(out, f"{name}.json"), "w", encoding="utf-8") as f:
        f.write(js + "\n")
    if name in CLI_CASES:
        check_cli(out, name, len(ref_streams), options, text, js)
    with open(os.path.join(out, f"{name}.widths"), "w") as f:  # `sacrebleu -w W`, text and JSON
        for width in (0, 2, 3):
            for is_json in (False, True):
                formatted = score.format(width=width, signature=signature.format(), is_json=is_json)
                f.write(f"{width} {int(is_json)} {formatted.encode().hex()}\n")

    order = options.get("max_ngram_order", 4)
    fields = {
        "name": name,
        "nrefs": len(ref_streams),
        "lowercase": int(options.get("lowercase", False)),
        "tokenize": options.get("tokenize", "13a"),
        "smooth_method": options.get("smooth_method", "exp"),
        "smooth_value": repr(float(options["smooth_value"])) if "smooth_value" in options else "none",
        "max_ngram_order": order,
        "effective_order": int(options.get("effective_order", False)),
        "score": repr(float(score.score)),
        "bp": repr(float(score.bp)),
        "ratio": repr(float(score.ratio)),
        "sys_len": score.sys_len,
        "ref_len": score.ref_len,
        "precisions": floats(score.precisions),
        "counts": ints(stats[2:2 + order]),
        "totals": ints(stats[2 + order:]),
    }
    return " ".join(f"{k}={v}" for k, v in fields.items())


_SEGMENT_CACHE = {}


def segment_statistics(hyps, ref_streams, options):
    """BLEU._extract_corpus_statistics; smoothing and effective order do not change them."""
    key = (tuple(hyps), tuple(map(tuple, ref_streams)), options.get("lowercase", False),
           options.get("tokenize", "13a"), options.get("max_ngram_order", 4))
    if key not in _SEGMENT_CACHE:
        bleu = BLEU(references=ref_streams, **options)
        _SEGMENT_CACHE[key] = bleu._extract_corpus_statistics(hyps, None)
    return _SEGMENT_CACHE[key]


def check_cli(out, name, nrefs, options, text, js):
    refs = [os.path.join(out, f"{name}.ref{k}") for k in range(nrefs)]
    hyp = os.path.join(out, f"{name}.hyp")
    base = [sys.executable, "-m", "sacrebleu", *refs, "-i", hyp, "-q", "--no-color", *cli_flags(options)]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("SACREBLEU_FORMAT", None)
    got_text = subprocess.run(base + ["-f", "text"], capture_output=True, check=True, env=env).stdout.decode()
    assert got_text == text + "\n", (name, got_text, text)
    if name in CLI_JSON_CASES:
        got_json = subprocess.run(base, capture_output=True, check=True, env=env).stdout.decode()
        assert got_json == js + "\n", (name, got_json, js)


def sentence_cases():
    rng = random.Random(7)
    pairs = [
        ("The cat sat on the mat.", ["The cat is sitting on the mat."]),
        ("the cat", ["the cat is here"]),
        ("", ["a reference"]),
        ("exact match here", ["exact match here"]),
        ("Größe über alles, 東京!", ["Größe über alles, 東京.", "Die Größe über allem"]),
    ]
    for _ in range(5):
        ref = random_sentence(rng, rng.randint(3, 25))
        pairs.append((add_noise(rng, ref, 0.3), [ref]))
    lines = []
    for hyp, refs in pairs:
        for eff in (True, False):
            bleu = BLEU(effective_order=eff)
            score = bleu.sentence_score(hyp, refs)
            text = score.format(width=1, signature=bleu.get_signature().format())
            lines.append(" ".join([
                hyp.encode().hex() or "-", ",".join(r.encode().hex() or "-" for r in refs), str(int(eff)),
                repr(float(score.score)), repr(float(score.bp)), str(score.sys_len), str(score.ref_len),
                floats(score.precisions), text.encode().hex()]))
    return lines


TOKENIZE_INPUTS = [
    "", " ", "a", "Hello, world!", "It costs $1,000.50-ish, \"ok\"?",
    "1,000.5 ; 3-4 ; \"quotes\" ; &amp; &quot; &lt; &gt; ; <skipped>",
    "<skip<skipped>ped> &amp;quot; &amp;lt; &&amp;; &quot",
    "line-\nbreak and\nnewline", "trailing dash -", "- leading", "9-", "-9", "a-9 9-a 9-9 a-a",
    "a.b a,b 1.b b.1 1,b b,1 1.1 1,1 .5 5. ,5 5, ... ,,, ., ,.",
    "x.. 1.. ..1 .1. ,1, a.,b", "end.", "3.", "U.S.A. e.g. i.e.", "don't l'homme it's",
    "{[(<@#$%^&*+=|~_`:;?!/\\>)]}", "tab\there", "cr\rhere", "form\x0cfeed\x0bvtab",
    "nbsp\u00a0thin\u2009ideo\u3000nnbsp\u202fline\u2028para\u2029ogham\u1680end",
    "zwsp\u200bbom\ufeffnot spaces", "Größe, schön. Fußball!", "東京、日本。中国，北京．", "emoji😀.🚀,🎉!",
    "x\x1cy\x1dz\x1ew\x1fv\x85u", "ÄÖÜ.1 ß,2 é-3 3-é", "  many   spaces   ", "a\u00a0.\u00a0b",
    "(1,000.50) [2.5,3.5] {4-5}", "www.example.com/path?x=1&y=2", "12:30 50% $5 €10 #1 @user",
]


def tokenize_lines():
    tok = Tokenizer13a()
    rng = random.Random(11)
    inputs = list(TOKENIZE_INPUTS)
    alphabet = list("aZ09.,-'\"&;<>$ ") + ["\u00a0", "\u3000", "ß", "東", "😀", "&amp;", "&quot;", "<skipped>",
                                            "\n", "\t"]
    for _ in range(300):
        inputs.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))))
    return [f"{s.encode().hex() or '-'} {tok(s).encode().hex() or '-'}" for s in inputs]


READ_LINES_RAW = (
    "\ufefffirst line with BOM\r\n"
    "trailing spaces   \n"
    "trailing tab and nbsp\t\u00a0\n"
    "ideographic space\u3000\r\n"
    "\n"
    "   leading spaces kept\n"
    "lone\rcarriage return inside\n"
    "vertical\x0b tab and form feed\x0c\n"
    "next line\x85\n"
    "line separator\u2028 inside\u2029\n"
    "\r\n"
    "last line without newline  "
).encode()


def read_lines_expected(path):
    return [line.rstrip().encode().hex() or "-" for line in smart_open(path)]


# --------------------------------------------------------------------------- Unicode tables


def lower_changes():
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        low = chr(cp).lower()
        if low != chr(cp):
            yield cp, low


def sigma_class(cp):
    """C if cp before a final capital sigma makes it a final sigma, I if it is skipped over."""
    if 0xD800 <= cp < 0xE000:
        return None
    c = chr(cp)
    after_cased = ("A" + c + SIGMA).lower()[-1] == FINAL_SIGMA
    alone = (c + SIGMA).lower()[-1] == FINAL_SIGMA
    if after_cased and not alone:
        return "I"
    if alone:
        return "C"
    return None


def sigma_ranges():
    ranges = []
    for cp in range(0x110000):
        k = sigma_class(cp)
        if k is None:
            continue
        if ranges and ranges[-1][2] == k and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, k])
    return ranges


def lower_runs():
    """Runs (first, last, delta, stride) of single-code-point lowercase mappings."""
    runs = []
    for cp, low in lower_changes():
        if len(low) != 1:
            continue
        delta = ord(low) - cp
        if runs:
            first, last, d, stride = runs[-1]
            if d == delta and (cp - last == stride or (first == last and cp - last in (1, 2))):
                runs[-1] = [first, cp, d, cp - last]
                continue
        runs.append([cp, cp, delta, 1])
    return runs


def print_wrapped(items, width=120):
    line = "   "
    for item in items:
        if len(line) + len(item) + 2 > width:
            print(line)
            line = "   "
        line += " " + item + ","
    print(line)


def emit_cpp_tables():
    print(f"// Generated by tests/reference/bleu_golden.py --emit-cpp-tables (Python {sys.version.split()[0]}, "
          f"Unicode {unicodedata.unidata_version}).")
    print("// clang-format off")
    print("constexpr LowerRun kLowerRuns[] = {")
    items = [f"{{0x{a:X}, 0x{b:X}, {d}, {s}}}" for a, b, d, s in lower_runs()]
    print_wrapped(items)
    print("};")
    print("constexpr SigmaRange kSigmaRanges[] = {")
    items = [f"{{0x{a:X}, 0x{b:X}, '{k}'}}" for a, b, k in sigma_ranges()]
    print_wrapped(items)
    print("};")
    print("// clang-format on")


# --------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="folder to write bleu/ into")
    parser.add_argument("--emit-cpp-tables", action="store_true")
    args = parser.parse_args()
    if args.emit_cpp_tables:
        emit_cpp_tables()
        return
    if not args.out:
        parser.error("--out DIR is required")
    if sacrebleu.__version__ != EXPECTED_SACREBLEU:
        sys.exit(f"bleu_golden.py: torchzoo's BLEU mirrors sacrebleu {EXPECTED_SACREBLEU}, "
                 f"found {sacrebleu.__version__}")

    logging.getLogger("sacrebleu").setLevel(logging.ERROR)  # its hints on tokenised input and sentence BLEU
    out = os.path.join(args.out, "bleu")
    os.makedirs(out, exist_ok=True)
    cases = fixed_cases() + generated_cases()
    assert set(CLI_CASES) <= {case[0] for case in cases}, "CLI_CASES names a case that does not exist"
    results = [corpus_case(out, name, hyps, refs, options) for name, hyps, refs, options in cases]
    with open(os.path.join(out, "results.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(results) + "\n")
    with open(os.path.join(out, "sentences.txt"), "w") as f:
        f.write("\n".join(sentence_cases()) + "\n")
    with open(os.path.join(out, "tokenize_13a.txt"), "w") as f:
        f.write("\n".join(tokenize_lines()) + "\n")
    raw = os.path.join(out, "read_lines.raw")
    with open(raw, "wb") as f:
        f.write(READ_LINES_RAW)
    with open(os.path.join(out, "read_lines.txt"), "w") as f:
        f.write("\n".join(read_lines_expected(raw)) + "\n")
    with open(os.path.join(out, "lower_map.txt"), "w") as f:
        f.write("\n".join(f"{cp:X} {low.encode().hex()}" for cp, low in lower_changes()) + "\n")
    with open(os.path.join(out, "sigma_classes.txt"), "w") as f:
        f.write("\n".join(f"{a:X} {b:X} {k}" for a, b, k in sigma_ranges()) + "\n")
    print(f"bleu_golden.py: wrote {len(results)} corpus cases to {out}")


if __name__ == "__main__":
    main()
