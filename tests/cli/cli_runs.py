"""What the CLI tests (tests/cli/*.py) share: reading a run's metrics.jsonl,
waiting for a record while it trains, and exporting its weights."""
import json
import os
import subprocess
import time

import safetensors.numpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Records an interrupted or distributed run writes beside those of an uninterrupted one.
BOOKKEEPING = ("save", "interrupted", "data_parallel")


def records(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def comparable(out, fields):
    """The records that do not depend on interruptions, with `fields` and the valid_* figures."""
    return [{k: v for k, v in record.items() if k in fields or k.startswith("valid_")}
            for record in records(out) if record["event"] not in BOOKKEEPING]


def wait_for_record(out, processes, wanted, seconds=300):
    """Polls metrics.jsonl while all `processes` run until a whole record satisfies `wanted`; returns it (or None)."""
    path = os.path.join(out, "metrics.jsonl")
    deadline = time.time() + seconds
    while time.time() < deadline and all(p.poll() is None for p in processes):
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    record = json.loads(line)
                    if wanted(record):
                        return record
        time.sleep(0.005)
    return None


def export_weights(binary, out, target):
    """Exports `out`/checkpoint.pt as safetensors to `target`: (its tensors, or None, and the stderr)."""
    result = subprocess.run([binary, "export", "--checkpoint", os.path.join(out, "checkpoint.pt"), "--format",
                             "safetensors", "-o", target], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return (safetensors.numpy.load_file(target) if result.returncode == 0 else None), result.stderr
