#!/usr/bin/env python3
"""The CPU kernel paths a test can run under, and the environment that selects each.

Float rounding differs by instruction set, so a short training run takes a
different trajectory on an AVX2-only AMD EPYC than on an AVX-512 Xeon. Three
libraries pick their kernels at run time, each from its own variable:
ATen's vectorised ops (ATEN_CPU_CAPABILITY), MKL's GEMMs
(MKL_ENABLE_INSTRUCTIONS) and oneDNN's (ONEDNN_MAX_CPU_ISA). A path caps all
three, so `avx2` on a Xeon runs what an AVX2-only machine runs.

  tests/kernel_paths.py                 the paths this CPU supports, its native one marked
  tests/kernel_paths.py --ctest         for CMake: `name|VAR=value,...` per path other than the native one
  tests/kernel_paths.py --env avx2      the variables of one path, as `VAR=value` lines
"""
import argparse
import platform
import sys

PATHS = {
    "default": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    # MKL and oneDNN keep their best kernels (AVX-512, AMX) on this path.
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512"},
}

# The CPU flags ATen requires for each capability (aten/src/ATen/native/DispatchStub.cpp).
REQUIRED_FLAGS = {
    "default": set(),
    "avx2": {"avx2", "fma"},
    "avx512": {"avx512f", "avx512bw", "avx512vl", "avx512dq"},
}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def supported():
    """The paths this CPU can run: only `default` off x86."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return ["default"]
    flags = cpu_flags()
    return [name for name in PATHS if REQUIRED_FLAGS[name] <= flags]


def native():
    """The path ATen picks with no variable set, as the torch in this Python reports it."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability().lower()
    return capability if capability in PATHS else "default"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ctest", action="store_true", help="the non-native paths, for CMake")
    parser.add_argument("--env", choices=sorted(PATHS), help="the variables of one path")
    args = parser.parse_args()
    if args.env:
        for key, value in PATHS[args.env].items():
            print(f"{key}={value}")
    elif args.ctest:
        ours = native()
        for name in supported():
            if name != ours:
                print(name + "|" + ",".join(f"{k}={v}" for k, v in PATHS[name].items()))
    else:
        ours = native()
        for name in supported():
            print(name + (" (native)" if name == ours else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
