#!/usr/bin/env python3
"""Two hosts, one process each, over a network that this test makes and removes.

Two network namespaces stand for two machines: each has its own interfaces,
addresses and routes, joined by a veth pair (10.77.<n>.1 and .2, n from the
process id). torchrun runs on each "host" with --nnodes 2 and c10d rendezvous
at host 0's address (--rdzv-endpoint), as on a cluster, and trains
copy_task_tiny; Gloo's traffic crosses the veth pair, not loopback. The final
weights must equal those of the same run by 2 processes on loopback: the same
collectives, only over another wire.

Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip`; without
them it prints SKIPPED and exits 77 (ctest: skipped).

Usage: two_hosts.py --bin build/torchzoo [--work DIR] [--keep]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from cli_runs import ROOT, export_weights, records
CONFIG = "configs/copy_task_tiny.yaml"
SETTINGS = ["train.threads=1", "train.epochs=3", "scheduler.total_steps=30", "scheduler.warmup=10",
            "model.dropout=0.1"]
SKIP = 77


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class Network:
    """Namespaces host0 and host1 joined by a veth pair; removed on exit."""

    def __init__(self):
        tag = os.getpid() % 60000
        self.names = [f"tz{tag}h0", f"tz{tag}h1"]
        self.links = [f"tz{tag}v0", f"tz{tag}v1"]
        self.addresses = [f"10.77.{tag % 250}.1", f"10.77.{tag % 250}.2"]

    def __enter__(self):
        try:
            for name in self.names:
                ip("netns", "add", name)
            ip("link", "add", self.links[0], "type", "veth", "peer", "name", self.links[1])
            for name, link, address in zip(self.names, self.links, self.addresses):
                ip("link", "set", link, "netns", name)
                ip("-n", name, "addr", "add", f"{address}/24", "dev", link)
                ip("-n", name, "link", "set", link, "up")
                ip("-n", name, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_):
        for name in self.names:  # the veth pair goes with its namespaces
            ip("netns", "delete", name, check=False)

    def sent_bytes(self, host):
        """Bytes host `host` has sent over its end of the veth pair."""
        shown = json.loads(ip("-n", self.names[host], "-j", "-s", "link", "show", "dev", self.links[host]).stdout)
        return shown[0]["stats64"]["tx"]["bytes"]

    def run_in(self, host, args, env):
        return subprocess.Popen(["ip", "netns", "exec", self.names[host], *args], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def train_args(binary, out):
    args = [binary, "train", CONFIG, "--out", out]
    for setting in SETTINGS:
        args += ["--set", setting]
    return args


def clean_env():
    names = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE",
             "GLOO_SOCKET_IFNAME")
    return {k: v for k, v in os.environ.items() if k not in names}


def export(binary, out, target):
    tensors, stderr = export_weights(binary, out, target)
    if tensors is None:
        sys.exit(f"FAIL: export of {out}: {stderr}")
    return tensors


def can_make_namespaces():
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed"
    probe = f"tz{os.getpid() % 60000}probe"
    result = ip("netns", "add", probe, check=False)
    if result.returncode != 0:
        return f"ip netns add is not permitted here: {result.stderr.strip()}"
    ip("netns", "delete", probe, check=False)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    reason = can_make_namespaces()
    if reason:
        print(f"SKIPPED: {reason}")
        return SKIP
    work = args.work or tempfile.mkdtemp(prefix="torchzoo_two_hosts_")

    # The reference: 2 processes on loopback.
    loopback = os.path.join(work, "loopback")
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             "--no-python"] + train_args(binary, loopback), cwd=ROOT, env=clean_env(),
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(f"FAIL: 2 processes on loopback: {result.stderr[-2000:]}")
        return 1

    with Network() as net:
        port = 29400 + os.getpid() % 1000
        endpoint = f"{net.addresses[0]}:{port}"
        print(f"host0 {net.names[0]} at {net.addresses[0]}, host1 {net.names[1]} at {net.addresses[1]}, "
              f"rendezvous at {endpoint}", flush=True)
        outs = [os.path.join(work, "host0"), os.path.join(work, "host1")]
        started = time.time()
        processes = []
        for host in (0, 1):
            launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
                        "--node-rank", str(host), "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint,
                        "--rdzv-id", "two_hosts", "--local-addr", net.addresses[host],
                        # torchrun finds the store's host by its name, which both namespaces share: told instead
                        "--rdzv-conf", f"is_host={'true' if host == 0 else 'false'}", "--no-python"]
            processes.append(net.run_in(host, launcher + train_args(binary, outs[host]), clean_env()))
        results = []
        for process in processes:
            try:
                results.append(process.communicate(timeout=600))
            except subprocess.TimeoutExpired:
                process.kill()
                results.append(process.communicate())
        seconds = time.time() - started
        codes = [p.returncode for p in processes]
        if codes != [0, 0]:
            print(f"FAIL: exit codes {codes}\nhost0:\n{results[0][1][-3000:]}\nhost1:\n{results[1][1][-3000:]}")
            return 1
        banner = [line for line in results[0][1].splitlines() if line.startswith("distributed:")]
        sent = [net.sent_bytes(host) for host in (0, 1)]
        print(f"two hosts trained in {seconds:.1f} s: {banner}; over the veth pair host0 sent {sent[0]} bytes, "
              f"host1 {sent[1]}", flush=True)

    # Every step all-reduces the gradients: over a ring of two, each host sends about their size.
    data_parallel = next(r for r in records(outs[0]) if r["event"] == "data_parallel")
    steps, gradients = data_parallel["step"], data_parallel["gradient_bytes"]
    if min(sent) < steps * gradients * 0.9:
        print(f"FAIL: {steps} steps of {gradients} gradient bytes, yet the hosts sent only {sent} bytes over veth")
        return 1

    a = export(binary, loopback, os.path.join(work, "loopback.safetensors"))
    b = export(binary, outs[0], os.path.join(work, "host0.safetensors"))
    if sorted(a) != sorted(b):
        print("FAIL: the exports hold different tensors")
        return 1
    largest = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in a)
    print(f"largest difference between two hosts over veth and 2 processes on loopback: {largest:.3g}")
    if os.path.exists(os.path.join(outs[1], "checkpoint.pt")):
        print("FAIL: host 1 (rank 1) wrote a checkpoint")
        return 1
    if largest > 1e-6:
        print("FAIL: two hosts and loopback differ")
        return 1
    print("0 failure(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
