#!/usr/bin/env python3
"""Bad input through the CLI, one table: configs, data files, checkpoints,
safetensors, flags, output paths, full disks and signals.

Every case runs `torchzoo ...` as a user would and asserts:
  - the exit code (2: a bad command line or config, 1: a failure at run time,
    130/143: a signal);
  - a message that names what was wrong (the file, key or line: the
    `expect` substrings);
  - that no partial file remains (no `*.tmp-<pid>` file anywhere in the
    case's folder, and none of the case's `absent` paths exists);
  - no crash (death by a signal, "terminate called", an abort) and no hang
    (each case has a time limit).
It prints the counts: cases, clear errors, unclear ones, crashes, hangs.

Usage: bad_input.py --bin build/torchzoo [--work DIR] [-k NAME_SUBSTRING]
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
import safetensors.numpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COPY = "configs/copy_task_tiny.yaml"
TRANSLATION = "configs/translation_tiny.yaml"
LANGID = "configs/langid_tiny.yaml"
LM = "configs/lm_tiny.yaml"
VIT = "configs/vit_fashion_mnist_tiny.yaml"
FASHION = "/usr/share/datasets/fashion-mnist"
CRASH_MARKS = ("terminate called", "Aborted", "Segmentation fault", "core dumped", "AddressSanitizer")


class Case:
    def __init__(self, name, args, code, expect, files=None, absent=(), setup=None, stdin=None, timeout=120,
                 full_disk=False, signals=None, max_output=None, native_allocator=False):
        self.name, self.args, self.code, self.expect = name, args, code, expect
        self.files = files or {}
        self.absent, self.setup, self.stdin, self.timeout = absent, setup, stdin, timeout
        self.full_disk = full_disk      # run in a mount namespace with a 64 KB tmpfs at {D}/disk
        self.signals = signals          # [(wait for this stderr text, signal), ...]
        self.max_output = max_output    # bound on the length of what was printed
        # Needs the system allocator, whose operator new throws std::bad_alloc: ASan's reports
        # the failed allocation and aborts instead. Skipped (and counted) with --sanitized.
        self.native_allocator = native_allocator


def base_yaml():
    with open(os.path.join(ROOT, COPY)) as f:
        return f.read()


def billion_laughs():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return base_yaml() + "\nbomb:\n" + "\n".join("  " + line for line in lines) + "\n"


def idx_images(count, rows=28, cols=28, magic=0x00000803, truncate=False):
    data = struct.pack(">IIII", magic, count, rows, cols) + bytes(count * rows * cols)
    return data[: len(data) // 2] if truncate else data


def idx_labels(count):
    return struct.pack(">II", 0x00000801, count) + bytes(count)


def damage_member(source, target, pick, patch):
    """A copy of checkpoint `source` with `patch` written over the middle of the zip member that
    `pick` chooses from the archive's members (the zip's own structure stays intact)."""
    shutil.copy(source, target)
    with zipfile.ZipFile(source) as archive:
        record = pick(archive.infolist())
        with open(source, "rb") as f:
            f.seek(record.header_offset + 26)
            name_length, extra_length = struct.unpack("<HH", f.read(4))
        start = record.header_offset + 30 + name_length + extra_length
    with open(target, "r+b") as f:
        f.seek(start + record.compress_size // 2)
        f.write(patch)


def corrupt_tensor_bytes(source, target):
    """Bytes of the largest tensor record changed: the per-tensor checksums catch it."""
    damage_member(source, target, lambda members: max((i for i in members if "/data/" in i.filename),
                                                      key=lambda i: i.file_size), b"\x7f\x7f\x7f\x7f\x01\x02\x03\x04")


def corrupt_code_member(source, target):
    """Bytes of the largest TorchScript code member changed: the zip CRC check catches it."""
    damage_member(source, target, lambda members: max((i for i in members if "/code/" in i.filename and
                                                       i.filename.endswith(".py")), key=lambda i: i.compress_size),
                  b"\x00\x00")


def rewrite_pickle(source, target, damage):
    """A copy of checkpoint `source` whose data.pkl is `damage`d, in a zip with valid CRCs."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for info in archive.infolist():
            data = archive.read(info)
            out.writestr(info, damage(data) if info.filename.endswith("/data.pkl") else data)


def cut_end(data):
    return data[: len(data) - 40]


def overwrite_middle(data):
    middle = len(data) // 2
    return data[:middle] + b"\xff" * 8 + data[middle + 8:]


def cases(w):
    """The table. {D} is the case's own folder, {W} the shared one (fixtures), {CKPT} a copy-task checkpoint,
    {VIT} a ViT checkpoint, {ST} a safetensors export of {CKPT}."""
    copy = ["train", COPY, "--out", "{D}/run"]
    tr = ["train", TRANSLATION, "--out", "{D}/run"]
    good_tsv = "Hello world.\tHallo Welt.\nGood morning.\tGuten Morgen.\n"
    c = [
        # --- configs -------------------------------------------------------------------------------------------
        Case("config file missing", ["train", "{D}/nope.yaml"], 2, ["nope.yaml"]),
        Case("config is a folder", ["train", "{D}"], 2, ["{D}"]),
        Case("YAML syntax error", ["train", "{D}/c.yaml"], 2, ["c.yaml:4:1", "YAML syntax error"],
             files={"c.yaml": "model:\n  name: encoder_decoder\n  d_model: [1, 2\n"}),
        Case("unknown top-level key", ["train", "{D}/c.yaml", "--out", "{D}/run"], 2, ["c.yaml:", "modle", "unknown key"],
             files={"c.yaml": base_yaml() + "modle: {}\n"}, absent=["{D}/run"]),
        Case("misspelt model key", copy + ["--set", "model.d_modl=64"], 2, ["model.d_modl", "did you mean 'd_model'"],
             absent=["{D}/run"]),
        Case("wrong type", copy + ["--set", "model.d_model=abc"], 2, ["model.d_model", "expected an integer"]),
        Case("negative width", copy + ["--set", "model.d_model=-4"], 2, ["model.d_model", "> 0"]),
        Case("heads do not divide the width", copy + ["--set", "model.num_heads=5"], 2, ["model.num_heads", "divide"]),
        Case("duplicate key", ["train", "{D}/c.yaml"], 2, ["c.yaml:", "train.epochs", "duplicate key"],
             files={"c.yaml": base_yaml().replace("  epochs: 20\n", "  epochs: 20\n  epochs: 3\n")}),
        Case("YAML alias bomb (train)", ["train", "{D}/c.yaml", "--out", "{D}/run"], 2,
             ["c.yaml:", "aliases", "100000"], files={"c.yaml": billion_laughs()}, timeout=30, absent=["{D}/run"]),
        Case("YAML alias bomb (info)", ["info", "{D}/c.yaml"], 2, ["c.yaml:", "aliases"],
             files={"c.yaml": billion_laughs()}, timeout=30),
        Case("nesting 100 levels deep", ["info", "{D}/c.yaml"], 2, ["c.yaml:", "nest more than 64 levels"],
             files={"c.yaml": base_yaml() + "deep: " + "[" * 100 + "]" * 100 + "\n"}),
        Case("nesting 100000 levels deep", ["info", "{D}/c.yaml"], 2, ["c.yaml"],
             files={"c.yaml": base_yaml() + "deep: " + "[" * 100000 + "]" * 100000 + "\n"}, timeout=60),
        Case("a 5 MB value is not echoed whole", ["train", "{D}/c.yaml"], 2, ["model.name", "bytes in all"],
             files={"c.yaml": base_yaml().replace("name: encoder_decoder", "name: " + "x" * 5_000_000)},
             max_output=4000),
        Case("a 1000-character key is not echoed whole", ["train", "{D}/c.yaml"], 2, ["c.yaml:", "unknown key"],
             files={"c.yaml": base_yaml() + "k" * 1000 + ": 1\n"}, max_output=1500),
        Case("a 1 MB key", ["train", "{D}/c.yaml"], 2, ["c.yaml:", "YAML syntax error"],
             files={"c.yaml": base_yaml() + "k" * 1_000_000 + ": 1\n"}, max_output=1500),
        Case("a 100 KB --set value is not echoed whole", copy + ["--set", "model.activation=" + "y" * 100_000], 2,
             ["model.activation", "bytes in all"], max_output=4000),
        Case("config with invalid UTF-8 (fuzz: config)", ["train", "{D}/c.yaml"], 2,
             ["c.yaml:46:5", "not valid UTF-8", "0xb5"],
             files={"c.yaml": base_yaml().encode().replace(b"  epochs:", b"  ep\xb5ochs:")}),
        Case("--set with invalid UTF-8 (fuzz: config)", copy + ["--set", "model.name=" + os.fsdecode(b"\xa1x")], 2,
             ["--set model.name=", "not valid UTF-8", "0xa1"]),
        Case("config with a control character (fuzz: config)", ["train", "{D}/c.yaml"], 2,
             ["c.yaml:46:5", "control character 0x14"],
             files={"c.yaml": base_yaml().replace("  epochs:", "  ep\x14ochs:")}),
        Case("--set with a carriage return (fuzz: config)", copy + ["--set", "model.name=adam\r"], 2,
             ["--set model.name=", "carriage return without a line feed"]),
        Case("a number with text after an underflowing exponent (fuzz: config)",
             copy + ["--set", "optimizer.lr=0.1e-494 0.98"], 2,
             ["optimizer.lr", "expected a number, got '0.1e-494 0.98'"]),
        Case("top level is a list", ["train", "{D}/c.yaml"], 2, ["c.yaml", "expected a map"],
             files={"c.yaml": "- a\n- b\n"}),
        Case("config over 16 MB", ["train", "{D}/c.yaml"], 2, ["c.yaml", "bytes"],
             files={"c.yaml": base_yaml() + "# " + "z" * (17 << 20) + "\n"}),
        Case("unknown model name", copy + ["--set", "model.name=transformr"], 2, ["model.name", "transformr"]),
        Case("unknown data name", copy + ["--set", "data.name=imagenet"], 2, ["data.name", "imagenet"]),
        Case("--set without '='", copy + ["--set", "model.d_model"], 2, ["--set model.d_model", "key.path=value"]),
        Case("--set through a number", copy + ["--set", "train.epochs.x=1"], 2, ["train.epochs", "not a map"]),
        Case("--set value is bad YAML", copy + ["--set", "model.d_model=[1,"], 2, ["model.d_model", "not valid YAML"]),
        Case("unknown ${variable}", tr + ["--set", "data.train=${nope}/t.tsv"], 2, ["data.train", "${nope}"]),
        Case("zero epochs", copy + ["--set", "train.epochs=0"], 2, ["train.epochs", "> 0"]),
        Case("negative learning rate", copy + ["--set", "optimizer.lr=-1"], 2, ["optimizer.lr"]),
        Case("NaN learning rate", copy + ["--set", "optimizer.lr=.nan"], 2, ["optimizer.lr"]),
        Case("empty out_dir in the config", ["train", COPY, "--set", "train.out_dir=''"], 2,
             ["train.out_dir", "expected a folder"]),
        Case("negative save_every", copy + ["--set", "train.save_every=-1"], 2, ["train.save_every"]),
        Case("misspelt save_every key", copy + ["--set", "train.save_every={steps: 5, minuts: 3}"], 2,
             ["train.save_every.minuts", "did you mean 'minutes'"]),
        Case("unknown autocast", copy + ["--set", "train.autocast=fp8"], 2, ["train.autocast", "fp8"]),
        Case("sequences longer than the positions (copy task)", copy + ["--set", "model.max_len=8"], 2,
             ["data.seq_len", "model.max_len=8"], absent=["{D}/run"]),
        Case("sequences longer than the positions (translation)",
             tr + ["--set", "model.max_len=16", "--set", "data.max_tokens=100"], 2,
             ["data.max_tokens", "model.max_len=16"], absent=["{D}/run"]),
        Case("absurd width", copy + ["--set", "model.d_model=1000000000"], 2,
             ["model.d_model", "d_model=1e+09", "memory"], timeout=30, absent=["{D}/run"]),
        Case("absurd depth", copy + ["--set", "model.num_layers=1000000000"], 2,
             ["model.d_model", "num_layers=1e+09", "memory"], timeout=30),
        Case("absurd ViT width", ["info", VIT, "--set", "model.embed_dim=100000000", "--set", "model.num_heads=1"], 2,
             ["model.embed_dim", "memory"], timeout=30),
        Case("absurd LM vocabulary", ["info", LM, "--set", "model.vocab=100000000000"], 2,
             ["model.d_model", "vocab=1e+11", "memory"], timeout=30),
        # --- data files ----------------------------------------------------------------------------------------
        Case("TSV line with three fields", tr + ["--set", "data.train={D}/t.tsv"], 2, ["data.train", "t.tsv:2", "got 3"],
             files={"t.tsv": good_tsv.replace("Good morning.\t", "Good\tmorning.\t")}, absent=["{D}/run"]),
        Case("TSV with invalid UTF-8", tr + ["--set", "data.train={D}/t.tsv"], 2,
             ["t.tsv:2", "not valid UTF-8", "invalid_utf8: skip"],
             files={"t.tsv": good_tsv.encode().replace(b"Guten", b"Gut\xffen")}, absent=["{D}/run"]),
        Case("TSV with an empty line", tr + ["--set", "data.train={D}/t.tsv"], 2, ["t.tsv:2", "empty line"],
             files={"t.tsv": "Hello world.\tHallo Welt.\n\nGood morning.\tGuten Morgen.\n"}),
        Case("TSV file missing", tr + ["--set", "data.train={D}/none.tsv"], 2, ["data.train", "none.tsv", "does not exist"]),
        Case("aligned files of different lengths",
             tr + ["--set", "data.train=null", "--set", "data.train_src={D}/a.en", "--set", "data.train_tgt={D}/a.de"], 2,
             ["a.en", "a.de", "same number of lines"], files={"a.en": "a\nb\nc\n", "a.de": "a\nb\n"}),
        Case("aligned file with invalid UTF-8",
             tr + ["--set", "data.train=null", "--set", "data.train_src={D}/a.en", "--set", "data.train_tgt={D}/a.de"], 2,
             ["a.de:2", "not valid UTF-8"], files={"a.en": "a\nb\n", "a.de": b"a\n\xc3\x28\n"}),
        Case("labeled TSV with invalid UTF-8", ["train", LANGID, "--out", "{D}/run", "--set", "data.train={D}/l.tsv"], 2,
             ["l.tsv:2", "not valid UTF-8"], files={"l.tsv": b"en\tHello\nde\tGr\xfc\xdfe\n"}),
        Case("labeled TSV with an empty label", ["train", LANGID, "--out", "{D}/run", "--set", "data.train={D}/l.tsv"], 2,
             ["l.tsv:1", "label"], files={"l.tsv": "\tHello\nde\tHallo\n"}),
        Case("LM text with invalid UTF-8", ["train", LM, "--out", "{D}/run", "--set", "data.train={D}/x.txt"], 2,
             ["x.txt:2", "not valid UTF-8"], files={"x.txt": b"one line\nbad \xe2\x82 line\n"}),
        Case("IDX images truncated", ["train", VIT, "--out", "{D}/run", "--set", "data.root={D}/idx", "--set",
                                      "data.valid_size=10"], None,
             ["train-images-idx3-ubyte"], setup=lambda d: write_idx(d, truncate=True), absent=["{D}/run/checkpoint.pt"]),
        Case("IDX images with a wrong magic number", ["train", VIT, "--out", "{D}/run", "--set", "data.root={D}/idx",
                                                      "--set", "data.valid_size=10"],
             None, ["train-images-idx3-ubyte", "data type 0xff"], setup=lambda d: write_idx(d, magic=0x0000FFFF)),
        Case("IDX sizes whose product overflows (fuzz: idx)",
             ["train", VIT, "--out", "{D}/run", "--set", "data.root={D}/idx", "--set", "data.valid_size=10"], None,
             ["train-images-idx3-ubyte", "needs more data than a file of 16 bytes holds"],
             setup=lambda d: write_idx(d, images=struct.pack(">IIII", 0x803, 0xEDEDEDED, 0xEDEDEDED, 0xEDEDEDED))),
        Case("IDX with no images of an absurd size (fuzz: idx)",
             ["train", VIT, "--out", "{D}/run", "--set", "data.root={D}/idx", "--set", "data.valid_size=10"], None,
             ["train-images-idx3-ubyte", "implausible sizes [0, 3991793133, 3991793133]"],
             setup=lambda d: write_idx(d, images=struct.pack(">IIII", 0x803, 0, 0xEDEDEDED, 0xEDEDEDED))),
        Case("IDX folder missing", ["train", VIT, "--out", "{D}/run", "--set", "data.root={D}/none"], None,
             ["{D}/none"]),
        Case("PNG that is not a PNG", ["predict", "--checkpoint", "{VIT}", "{D}/x.png"], 1, ["x.png"],
             files={"x.png": b"GIF89a not a png at all"}),
        Case("PNG truncated", ["predict", "--checkpoint", "{VIT}", "{D}/x.png"], 1, ["x.png"],
             setup=lambda d: write_truncated_png(d)),
        Case("PNG missing", ["predict", "--checkpoint", "{VIT}", "{D}/none.png"], None, ["none.png"]),
        Case("IDX image index out of range",
             ["predict", "--checkpoint", "{VIT}", FASHION + "/t10k-images-idx3-ubyte.gz:99999"], None, ["99999"]),
        # --- checkpoints ---------------------------------------------------------------------------------------
        Case("checkpoint missing", ["eval", COPY, "--checkpoint", "{D}/none.pt"], 2, ["none.pt"]),
        Case("checkpoint is a text file", ["eval", COPY, "--checkpoint", "{D}/x.pt"], 1,
             ["x.pt", "not a torchzoo checkpoint"], files={"x.pt": "hello\n"}),
        Case("checkpoint is empty", ["eval", COPY, "--checkpoint", "{D}/x.pt"], 1, ["x.pt"], files={"x.pt": b""}),
        Case("checkpoint truncated", ["eval", COPY, "--checkpoint", "{D}/x.pt"], 1, ["x.pt"],
             setup=lambda d: truncate_copy("{CKPT}", os.path.join(d, "x.pt"))),
        Case("checkpoint with corrupted tensor bytes (eval)", ["eval", COPY, "--checkpoint", "{D}/x.pt"], 1,
             ["x.pt", "corrupted", "checksum"], setup=lambda d: corrupt_tensor_bytes(W["CKPT"], os.path.join(d, "x.pt"))),
        Case("checkpoint with corrupted tensor bytes (resume)",
             copy + ["--resume", "{D}/x.pt", "--allow-config-changes"], 1, ["x.pt", "corrupted"],
             setup=lambda d: corrupt_tensor_bytes(W["CKPT"], os.path.join(d, "x.pt")), absent=["{D}/run"]),
        Case("checkpoint with corrupted tensor bytes (export)",
             ["export", "--checkpoint", "{D}/x.pt", "--format", "safetensors", "-o", "{D}/x.safetensors"], 1,
             ["x.pt", "corrupted"], setup=lambda d: corrupt_tensor_bytes(W["CKPT"], os.path.join(d, "x.pt")),
             absent=["{D}/x.safetensors"]),
        Case("checkpoint with damaged TorchScript code (fuzz: checkpoint)", ["eval", COPY, "--checkpoint", "{D}/x.pt"],
             1, ["x.pt", "corrupted", "/code/", "zip check"], timeout=60,
             setup=lambda d: corrupt_code_member(W["CKPT"], os.path.join(d, "x.pt"))),
        Case("checkpoint whose pickle is cut short in a valid zip (fuzz: checkpoint)",
             ["eval", COPY, "--checkpoint", "{D}/x.pt"], 1, ["x.pt", "not a torchzoo checkpoint"], timeout=60,
             setup=lambda d: rewrite_pickle(W["CKPT"], os.path.join(d, "x.pt"), cut_end)),
        # Overwritten bytes can be a length field, and LibTorch's unpickler allocates what one says.
        Case("checkpoint whose pickle has overwritten bytes in a valid zip (fuzz: checkpoint)",
             ["eval", COPY, "--checkpoint", "{D}/x.pt"], 1, ["x.pt", "not a torchzoo checkpoint"],
             timeout=60, setup=lambda d: rewrite_pickle(W["CKPT"], os.path.join(d, "x.pt"), overwrite_middle),
             native_allocator=True),
        Case("resume with a changed model", ["train", COPY, "--out", "{W}/base", "--resume", "{CKPT}", "--set",
                                             "model.d_ff=256"], 2, ["model.d_ff: 128 in the checkpoint, 256 now"]),
        Case("resume with changed data", ["train", COPY, "--out", "{W}/base", "--resume", "{CKPT}", "--set",
                                          "data.seq_len=9"], 2, ["data.seq_len: 10 in the checkpoint, 9 now"]),
        Case("resume with a changed training key", ["train", COPY, "--out", "{W}/base", "--resume", "{CKPT}", "--set",
                                                    "optimizer.lr=0.02"], 2,
             ["optimizer.lr", "--allow-config-changes"]),
        Case("resume another family's checkpoint", ["train", LM, "--out", "{D}/run", "--resume", "{CKPT}"], 2,
             ["model.name"], absent=["{D}/run"]),
        Case("resume a weights-only checkpoint", ["train", COPY, "--out", "{D}/run", "--resume", "{D}/avg.pt"], 1,
             ["avg.pt", "weights only"], setup=lambda d: average_of("{CKPT}", os.path.join(d, "avg.pt"))),
        Case("checkpoint path is a folder", ["eval", COPY, "--checkpoint", "{D}"], 2, ["{D}"]),
        Case("decode a token that is not a number", ["decode", "--checkpoint", "{CKPT}", "1 2 x"], 2, ["'x'"]),
        Case("decode a token beyond the vocabulary", ["decode", "--checkpoint", "{CKPT}", "1 2 99"], None, ["99"]),
        # --- safetensors (model.init_from) ---------------------------------------------------------------------
        Case("safetensors header longer than the file", copy + ["--set", "model.init_from={D}/x.safetensors"], 2,
             ["model.init_from", "x.safetensors"], files={"x.safetensors": struct.pack("<Q", 10**12) + b"{}"}),
        Case("safetensors truncated", copy + ["--set", "model.init_from={D}/x.safetensors"], 2,
             ["model.init_from", "x.safetensors"], setup=lambda d: truncate_copy("{ST}", os.path.join(d, "x.safetensors"))),
        Case("safetensors header with a number past double's range (fuzz: safetensors)",
             copy + ["--set", "model.init_from={D}/x.safetensors"], 2,
             ["x.safetensors", "not valid JSON", "number overflow"],
             files={"x.safetensors": struct.pack("<Q", 16) + b'{"a": 1e999}    '}),
        Case("safetensors header not JSON", copy + ["--set", "model.init_from={D}/x.safetensors"], 2,
             ["x.safetensors"], files={"x.safetensors": struct.pack("<Q", 9) + b"{not json"}),
        Case("safetensors lacks a tensor", copy + ["--set", "model.init_from={D}/x.safetensors"], 2,
             ["x.safetensors", "missing"], setup=lambda d: rewrite_safetensors(d, drop=True)),
        Case("safetensors tensor of the wrong shape", copy + ["--set", "model.init_from={D}/x.safetensors"], 2,
             ["x.safetensors", "shape"], setup=lambda d: rewrite_safetensors(d, reshape=True)),
        Case("safetensors file missing", copy + ["--set", "model.init_from={D}/none.safetensors"], 2,
             ["model.init_from", "none.safetensors"]),
        # --- flags ---------------------------------------------------------------------------------------------
        Case("unknown command", ["trian", COPY], 2, ["unknown command 'trian'", "did you mean 'train'"]),
        Case("no command", [], 2, ["subcommand"]),
        Case("unknown flag", ["train", COPY, "--frobnicate"], 2, ["--frobnicate"]),
        Case("--out ''", ["train", COPY, "--out", ""], 2, ["--out", "expected a folder"]),
        Case("unknown device", copy + ["--device", "tpu"], 2, ["tpu"]),
        Case("CUDA device on a machine without one", copy + ["--device", "cuda:7"], 2, ["cuda"]),
        Case("unknown --autocast", copy + ["--autocast", "fp8"], 2, ["fp8"]),
        Case("--resume without a value", ["train", COPY, "--resume"], 2, ["--resume"]),
        Case("--allow-config-changes without --resume", copy + ["--allow-config-changes"], 2,
             ["--allow-config-changes", "--resume"]),
        Case("--overwrite with --resume", copy + ["--overwrite", "--resume", "{CKPT}"], 2, ["--overwrite"]),
        Case("eval without --checkpoint", ["eval", COPY], 2, ["--checkpoint"]),
        Case("export in an unknown format", ["export", "--checkpoint", "{CKPT}", "--format", "onnx", "-o", "{D}/x"], 2,
             ["onnx"], absent=["{D}/x"]),
        # --- output paths --------------------------------------------------------------------------------------
        Case("export onto /dev/null", ["export", "--checkpoint", "{CKPT}", "--format", "safetensors", "-o", "/dev/null"],
             1, ["/dev/null", "character device"]),
        Case("export onto a folder", ["export", "--checkpoint", "{CKPT}", "--format", "safetensors", "-o", "{D}"], 1,
             ["{D}", "a folder"]),
        Case("export onto a symbolic link", ["export", "--checkpoint", "{CKPT}", "-o", "{D}/link"], 1,
             ["link", "symbolic link"], setup=lambda d: make_link(d)),
        Case("export onto a FIFO", ["export", "--checkpoint", "{CKPT}", "-o", "{D}/fifo"], 1, ["fifo", "FIFO"],
             setup=lambda d: os.mkfifo(os.path.join(d, "fifo"))),
        Case("export under a file", ["export", "--checkpoint", "{CKPT}", "-o", "{D}/f.txt/x.pt"], 1,
             ["f.txt/x.pt", "Not a directory"], files={"f.txt": "x"}),
        Case("average onto a FIFO", ["average", "-o", "{D}/fifo", "{CKPT}", "{CKPT}"], 1, ["fifo", "FIFO"],
             setup=lambda d: os.mkfifo(os.path.join(d, "fifo"))),
        # --- pictures ------------------------------------------------------------------------------------------
        Case("plot of a damaged metrics log", ["plot", "{D}", "-o", "{D}/c.png"], 1,
             ["metrics.jsonl:2", "expected one JSON object per line"],
             files={"metrics.jsonl": '{"event": "step", "step": 1, "loss": 2.0}\n\x01 not json\n'},
             absent=["{D}/c.png"]),
        Case("plot of a folder without a log", ["plot", "{D}", "-o", "{D}/c.png"], 1, ["metrics.jsonl", "cannot read"],
             absent=["{D}/c.png"]),
        Case("plot to a JPEG", ["plot", "{W}/base", "-o", "{D}/c.jpg"], 2, ["c.jpg", ".png or .svg"]),
        Case("plot onto a FIFO", ["plot", "{W}/base", "-o", "{D}/fifo.png"], 1, ["fifo.png", "FIFO"],
             setup=lambda d: os.mkfifo(os.path.join(d, "fifo.png"))),
        Case("attention of an image that is not a PNG", ["attention", "--checkpoint", "{VIT}", "{D}/x.png", "-o",
             "{D}/a.png"], 1, ["x.png"], files={"x.png": "not a png"}, absent=["{D}/a.png"]),
        Case("attention of a copy-task model", ["attention", "--checkpoint", "{CKPT}", "1 2 3", "-o", "{D}/a.png"], 2,
             ["data.name", "the copy task has no tokenizers"], absent=["{D}/a.png"]),
        Case("train into a file", ["train", COPY, "--out", "{D}/f.txt"], 1, ["f.txt", "output folder"],
             files={"f.txt": "x"}),
        Case("a killed run's temporary file is removed", ["train", COPY, "--out", "{D}/run", "--set", "train.epochs=1"],
             0, ["removed 1 temporary file"], setup=lambda d: plant_temporary(d)),
        Case("train into a run's folder without --resume", ["train", COPY, "--out", "{W}/base"], 2,
             ["holds a run already", "--resume", "--overwrite"]),
        Case("full disk: TorchScript export", ["export", "--checkpoint", "{CKPT}", "-o", "{D}/disk/x.pt"], 1,
             ["x.pt", "No space left on device"], full_disk=True),
        Case("full disk: safetensors export",
             ["export", "--checkpoint", "{CKPT}", "--format", "safetensors", "-o", "{D}/disk/x.safetensors"], 1,
             ["x.safetensors", "No space left on device"], full_disk=True),
        Case("full disk: training checkpoint", ["train", COPY, "--out", "{D}/disk/run", "--set", "train.epochs=1"], 1,
             ["checkpoint.pt", "No space left on device"], full_disk=True, absent=["{D}/disk/run/checkpoint.pt"]),
        Case("full disk: averaged checkpoint", ["average", "-o", "{D}/disk/avg.pt", "{CKPT}", "{CKPT}"], 1,
             ["avg.pt", "No space left on device"], full_disk=True),
        # --- signals -------------------------------------------------------------------------------------------
        Case("SIGINT during training", copy + ["--set", "train.epochs=200", "--set", "train.log_every=1"], 130,
             ["interrupted by SIGINT", "resume with:", "checkpoint.pt"], signals=[("step 3 |", signal.SIGINT)]),
        Case("SIGTERM during training", copy + ["--set", "train.epochs=200", "--set", "train.log_every=1"], 143,
             ["interrupted by SIGTERM", "resume with:"], signals=[("step 3 |", signal.SIGTERM)]),
        Case("SIGINT twice", copy + ["--set", "train.epochs=200", "--set", "train.log_every=1"], 130,
             ["interrupted"], signals=[("step 3 |", signal.SIGINT), ("", signal.SIGINT)]),
    ]
    return c


W = {}


def write_idx(d, truncate=False, magic=0x00000803, images=None):
    """A data.root of IDX files; `images`, if given, is the whole training images file."""
    folder = os.path.join(d, "idx")
    os.makedirs(folder)
    for prefix, count in (("train", 100), ("t10k", 50)):
        with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(images if images and prefix == "train" else idx_images(count, magic=magic, truncate=truncate))
        with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(idx_labels(count))


def write_truncated_png(d):
    import zlib
    raw = b"".join(b"\x00" + bytes(28) for _ in range(28))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(os.path.join(d, "x.png"), "wb") as f:
        f.write(png[: len(png) - 30])


def truncate_copy(source, target):
    with open(fill(source), "rb") as f:
        data = f.read()
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])


def average_of(source, target):
    result = subprocess.run([W["BIN"], "average", "-o", target, fill(source)], cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr


def rewrite_safetensors(d, drop=False, reshape=False):
    tensors = safetensors.numpy.load_file(W["ST"])
    name = sorted(tensors)[0]
    if drop:
        del tensors[name]
    if reshape:
        tensors[name] = np.zeros((3, 3, 3), dtype=tensors[name].dtype)
    safetensors.numpy.save_file(tensors, os.path.join(d, "x.safetensors"))


def plant_temporary(d):
    os.makedirs(os.path.join(d, "run"))
    with open(os.path.join(d, "run", "checkpoint.pt.tmp-999999999"), "wb") as f:
        f.write(b"")  # what a kill -9 during a checkpoint write leaves (no process has this pid)


def make_link(d):
    with open(os.path.join(d, "target.txt"), "w") as f:
        f.write("keep me\n")
    os.symlink(os.path.join(d, "target.txt"), os.path.join(d, "link"))


def fill(value, d=None):
    """`value` with {D}, {W}, {CKPT}, {VIT} and {ST} replaced (other braces, as in YAML maps, stay)."""
    if d is not None:
        value = value.replace("{D}", d)
    for key in ("W", "CKPT", "VIT", "ST"):
        if key in W:
            value = value.replace("{" + key + "}", W[key])
    return value


def run_case(case, d):
    args = [fill(a, d) if len(a) < 10000 else a for a in case.args]
    command = [W["BIN"]] + args
    if case.full_disk:
        os.makedirs(os.path.join(d, "disk"))
        script = ('mount -t tmpfs -o size=64k tmpfs "$0/disk" || exit 99; "$@"; rc=$?; '
                  'find "$0/disk" -name "*.tmp-*" | sed "s/^/LEFT: /" >&2; exit $rc')
        command = ["unshare", "-rm", "sh", "-c", script, d] + command
    stdin = subprocess.DEVNULL if case.stdin is None else None
    start = time.time()
    if case.signals:
        process = subprocess.Popen(command, cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = b""
        for text, sig in case.signals:
            while text and text.encode() not in err and process.poll() is None:
                err += process.stderr.read1(4096)
            process.send_signal(sig)
        try:
            out, rest = process.communicate(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None, "", "", time.time() - start
        return process.returncode, out.decode(errors="replace"), (err + rest).decode(errors="replace"), \
            time.time() - start
    try:
        result = subprocess.run(command, cwd=ROOT, stdin=stdin, capture_output=True, timeout=case.timeout)
    except subprocess.TimeoutExpired:
        return None, "", "", time.time() - start
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace"), \
        time.time() - start


def make_fixtures(work, binary):
    W.update(W=work, BIN=binary)
    base = os.path.join(work, "base")
    result = subprocess.run([binary, "train", COPY, "--out", base, "--set", "train.epochs=1"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    W["CKPT"] = os.path.join(base, "checkpoint.pt")
    W["ST"] = os.path.join(work, "base.safetensors")
    result = subprocess.run([binary, "export", "--checkpoint", W["CKPT"], "--format", "safetensors", "-o", W["ST"]],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    vit = os.path.join(work, "vit")
    result = subprocess.run([binary, "train", VIT, "--out", vit, "--set", "train.max_steps=1", "--set",
                             "data.train_subset=200", "--set", "data.valid_subset=100"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    W["VIT"] = os.path.join(vit, "checkpoint.pt")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work")
    parser.add_argument("-k", default="")
    parser.add_argument("--sanitized", action="store_true", help="the binary is built with ASan (make sanitize)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="torchzoo_bad_input_")
    make_fixtures(work, os.path.abspath(args.bin))
    table = [c for c in cases(work) if args.k in c.name]
    skipped = [c for c in table if args.sanitized and c.native_allocator]
    for case in skipped:
        print(f"skip {case.name}: needs the system allocator (std::bad_alloc), not ASan's")
    table = [c for c in table if c not in skipped]
    counts = {"cases": len(table), "clear": 0, "unclear": 0, "crashes": 0, "hangs": 0, "skipped": len(skipped)}
    for i, case in enumerate(table):
        d = os.path.join(work, f"case_{i:03}")
        os.makedirs(d)
        for name, content in case.files.items():
            with open(os.path.join(d, name), "wb" if isinstance(content, bytes) else "w") as f:
                f.write(content)
        if case.setup:
            case.setup(d)
        code, out, err, seconds = run_case(case, d)
        text = out + err
        problems = []
        if code is None:
            counts["hangs"] += 1
            problems.append(f"no answer within {case.timeout} s")
        elif code < 0 or code in (134, 139) or any(mark in text for mark in CRASH_MARKS):
            counts["crashes"] += 1
            problems.append(f"crashed (exit {code})")
        else:
            expected_codes = (1, 2) if case.code is None else (case.code,)
            if code not in expected_codes:
                problems.append(f"exit {code}, expected {' or '.join(map(str, expected_codes))}")
            for want in case.expect:
                if fill(want, d) not in text:
                    problems.append(f"no {fill(want, d)!r} in the message")
            if case.max_output is not None and len(text) > case.max_output:
                problems.append(f"printed {len(text)} characters, more than {case.max_output}")
            left = [line for line in err.splitlines() if line.startswith("LEFT: ")]
            for root, _, names in os.walk(d):
                left += [os.path.join(root, n) for n in names if ".tmp-" in n]
            if left:
                problems.append(f"partial files left: {left}")
            for path in case.absent:
                if os.path.exists(fill(path, d)):
                    problems.append(f"{fill(path, d)} exists")
            if case.name == "export onto a symbolic link":
                with open(os.path.join(d, "target.txt")) as f:
                    if f.read() != "keep me\n":
                        problems.append("the link's target was changed")
            if case.name == "export onto /dev/null" and not os.path.exists("/dev/null"):
                problems.append("/dev/null was removed")
            if problems:
                counts["unclear"] += 1
            else:
                counts["clear"] += 1
        status = "ok  " if not problems else "FAIL"
        first_line = (err.strip().splitlines() or [""])[0][:150]
        print(f"{status} {case.name} ({seconds:.1f} s, exit {code}): {first_line}")
        for problem in problems:
            print(f"     - {problem}")
            if problem.startswith("no "):
                print(f"       output: {text[-600:]!r}")
    print(json.dumps(counts))
    ok = counts["clear"] == counts["cases"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
