"""What torchzoo's benchmark runners share: machine facts, and running one
benchmark process that prints a JSON object while measuring how busy the rest
of the machine was meanwhile."""

import json
import os
import platform
import resource
import subprocess
import sys
import time


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def busy_cpu_seconds():
    """CPU seconds all processes have spent busy (not idle or waiting on I/O) since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_json(cmd, runner, label):
    """Runs `cmd`, which must print a JSON object as its last line, and returns that object
    with "other_cores" added: the cores kept busy by everything but this run while it ran.
    A run with a clearly non-zero figure was disturbed and its speed is not to be trusted.
    Exits with a message naming `runner` and `label` if the run fails or prints no JSON."""
    busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    busy1, own1, wall1 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    if proc.returncode != 0:
        sys.exit(f"{runner}: {label} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as e:
        sys.exit(f"{runner}: {label} printed no JSON object ({e}):\n{proc.stdout}\n{proc.stderr}")
    result["other_cores"] = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))
    return result
