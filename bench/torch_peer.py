#!/usr/bin/env python3
"""The PyTorch peer's Python side, shared by the benchmarks' workers (see bench/torch-peer.ts).

`python3 bench/torch_peer.py` probes this Python and prints one JSON line: its version, whether numpy and
torch import (else which one fails and why), the BLAS/LAPACK libraries the process has mapped after both
imports (/proc/self/maps), OpenBLAS's own config and thread count when the BLAS is OpenBLAS (asked
through ctypes, so a renamed library is still recognised), torch's BLAS_INFO, whether oneDNN is there,
and a 1024² float32 torch.mm in GFLOP/s, which tells OpenBLAS (~200 on two AVX-512 cores) from the
reference BLAS (~6) beyond any name.

Workers call `apply_settings()` after importing torch: it applies the thread settings the harness
passes in the environment (WEIGHTSHARE_TORCH_THREADS, WEIGHTSHARE_TORCH_ONEDNN; OPENBLAS_NUM_THREADS is
read by OpenBLAS itself at load) and returns the settings in effect, read back from torch and OpenBLAS.
"""
import ctypes
import json
import os
import platform
import re
import time

BLAS_NAME = re.compile(r"blas|lapack|mkl|blis|atlas", re.IGNORECASE)


def blas_libraries():
    """Paths of the mapped shared libraries that look like BLAS/LAPACK, in load order, without repeats."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                path = parts[5].strip() if len(parts) == 6 else ""
                if path.startswith("/") and BLAS_NAME.search(os.path.basename(path)) and path not in libs:
                    libs.append(path)
    except OSError:
        pass  # not Linux: no maps, the GEMM figure still tells
    return libs


def openblas(libs):
    """{path, config, threads, corename} of the first mapped library exporting openblas_get_config, else None
    (libblas first: Debian's OpenBLAS liblapack.so.3 exports it too)."""
    for path in sorted(libs, key=lambda p: "libblas" not in os.path.basename(p)):
        try:
            lib = ctypes.CDLL(path)
            get_config = lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        get_config.restype = ctypes.c_char_p
        info = {"path": path, "config": get_config().decode(), "threads": lib.openblas_get_num_threads()}
        try:
            lib.openblas_get_corename.restype = ctypes.c_char_p
            info["corename"] = lib.openblas_get_corename().decode()
        except AttributeError:
            pass
        return info
    return None


def apply_settings():
    """Applies WEIGHTSHARE_TORCH_THREADS / WEIGHTSHARE_TORCH_ONEDNN; returns the settings in effect."""
    import torch

    threads = os.environ.get("WEIGHTSHARE_TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    onednn = os.environ.get("WEIGHTSHARE_TORCH_ONEDNN")
    if onednn in ("0", "1"):
        torch.backends.mkldnn.enabled = onednn == "1"
    ob = openblas(blas_libraries())
    return {
        "torchThreads": torch.get_num_threads(),
        "blasThreads": ob["threads"] if ob else None,
        "onednn": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
    }


def start_worker():
    """A peer worker's start: torch (and numpy) imported and the thread settings applied, returning the result dict
    {"engine": "pytorch", "settings": ...} to fill in; or, when they cannot be imported, None after printing the
    worker's whole answer {"engine": "pytorch", "skipped": why}."""
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except Exception as e:  # noqa: BLE001 - any import failure means the peer is skipped
        print(json.dumps({"engine": "pytorch", "skipped": f"cannot import torch: {type(e).__name__}: {e}"}))
        return None
    return {"engine": "pytorch", "settings": apply_settings()}


def probe():
    """What the harness needs to know about this Python, as a dict (see the module doc)."""
    out = {"python": platform.python_version()}
    try:
        import numpy as np

        out["numpy"] = np.__version__
    except Exception as e:  # noqa: BLE001 - any import failure means the peer cannot run
        out["error"] = {"module": "numpy", "message": f"{type(e).__name__}: {e}"}
        return out
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        out["error"] = {"module": "torch", "message": f"{type(e).__name__}: {e}"}
        return out
    out["torch"] = torch.__version__
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    out["torchBlasInfo"] = m.group(1) if m else None
    out["onednn"] = bool(torch.backends.mkldnn.is_available())
    out["torchThreads"] = torch.get_num_threads()
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    out["gemmGflops"] = 2 * 1024**3 / best / 1e9
    out["blasLibs"] = blas_libraries()
    out["openblas"] = openblas(out["blasLibs"])
    return out


if __name__ == "__main__":
    print(json.dumps(probe()))
