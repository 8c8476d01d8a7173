#!/usr/bin/python3
"""4096 x 4096 float64 matmul side by side: nums (bench/array_bench's BM_Matmul4096, embedded
default cluster), NumPy (one `a @ b`, OpenBLAS on all cores) and Dask array (2048 x 2048 chunks,
threaded scheduler). Best of 3 after one warm-up each.

  bench/matmul_bench.py [--bench build/bench/array_bench]

Needs Debian's python3-numpy and python3-dask (run with /usr/bin/python3).
"""

import argparse
import re
import subprocess
import time

import numpy as np

N = 4096


def best(f, reps=3):
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default="build/bench/array_bench")
    a = ap.parse_args()
    out = subprocess.run([a.bench, "--benchmark_filter=BM_Matmul4096/"], check=True,
                         capture_output=True, text=True).stdout
    ms = float(re.search(r"BM_Matmul4096/\S+\s+([\d.]+) ms", out).group(1))
    print(f"nums   matmul {N}: {ms / 1000:.3f} s")

    rng = np.random.default_rng(1)
    x, y = rng.random((N, N)), rng.random((N, N))
    print(f"numpy  matmul {N}: {best(lambda: x @ y):.3f} s")

    import dask.array as da
    dx, dy = da.from_array(x, chunks=2048), da.from_array(y, chunks=2048)
    print(f"dask   matmul {N}: {best(lambda: (dx @ dy).compute(scheduler='threads')):.3f} s")


if __name__ == "__main__":
    main()
