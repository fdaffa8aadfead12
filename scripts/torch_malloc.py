"""Makes glibc's malloc keep freed memory in the process, as the benchmarks run PyTorch (bench/torch-peer.ts, TORCH_MALLOC_ENV).

Eager PyTorch allocates its activations and gradients anew at every step; with glibc's defaults each large block goes
back to the OS and the next step faults fresh zeroed pages in, which on a 2-core VM ran the reference CNN 2.6-7.7x
slower (BENCHMARKS.md, training section). The settings of the benchmarks' environment (TORCH_MALLOC_ENV: mmap threshold
32 MiB, its maximum; top pad 256 MiB; trim threshold 4 GiB, here mallopt's int maximum, 2 GiB: no trimming either way),
set through mallopt so that a script run directly, or by scripts/gpt-vs-torch.mjs and text-experiments.sh, is fair.
"""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory():
    """Returns True when glibc took the settings, False where there is no glibc (nothing changes there)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(opt, value) == 1 for opt, value in
               ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, (1 << 31) - 1), (M_TOP_PAD, 256 << 20)))
