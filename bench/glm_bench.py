#!/usr/bin/python3
"""10 Newton iterations of L2-penalised logistic regression on NumS's synthetic blobs, side by side:
nums (the logistic_regression example), single-process NumPy, and Dask (threaded scheduler, and a
LocalCluster of 2 single-threaded worker processes).

Each side does the same work per iteration: eta = X w + b, the gradient X_aug^T (mu - y) + alpha w
and the Hessian X_aug^T diag(mu (1 - mu)) X_aug + alpha I', then a (d+1) x (d+1) solve. Data
generation, and Dask's persisting of X, are not timed. For nums the figure is the sum of the per-iteration times of iterations
1..10 from the example's table (each: the driver's solve and one pass over X).

  bench/glm_bench.py [--rows 2000000] [--cols 32] [--binary build/examples/logistic_regression]

Needs Debian's python3-numpy and python3-dask (run with /usr/bin/python3).
"""

import argparse
import subprocess
import time

import numpy as np

ALPHA = 1.0
ITERS = 10


def blobs(rows, cols, seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < 0.5).astype(np.float64)
    x = np.where(y[:, None] == 1, rng.normal(30, 4, (rows, cols)), rng.normal(10, 2, (rows, cols)))
    return np.hstack([x, np.ones((rows, 1))]), y


def newton_numpy(xa, y):
    p = xa.shape[1]
    pen = np.full(p, ALPHA)
    pen[-1] = 0
    beta = np.zeros(p)
    for _ in range(ITERS):
        eta = xa @ beta
        mu = 1 / (1 + np.exp(-eta))
        g = xa.T @ (mu - y) + pen * beta
        h = (xa * (mu * (1 - mu))[:, None]).T @ xa + np.diag(pen)
        beta -= np.linalg.solve(h, g)
    return beta


def newton_dask(xa, y, chunks, client=None):
    """Seconds of 10 iterations after X and y are persisted (threaded scheduler, or `client`)."""
    import dask
    import dask.array as da

    X = da.from_array(xa, chunks=(chunks, xa.shape[1]))
    Y = da.from_array(y, chunks=(chunks,))
    if client is None:
        X, Y = dask.persist(X, Y, scheduler="threads")
    else:
        X, Y = client.persist([X, Y])
        from distributed import wait
        wait([X, Y])
    t = time.perf_counter()
    p = xa.shape[1]
    pen = np.full(p, ALPHA)
    pen[-1] = 0
    beta = np.zeros(p)
    for _ in range(ITERS):
        eta = X @ beta
        mu = 1 / (1 + da.exp(-eta))
        g = X.T @ (mu - Y)
        h = (X * (mu * (1 - mu))[:, None]).T @ X
        if client is None:
            g, h = dask.compute(g, h, scheduler="threads")
        else:
            g, h = client.compute([g, h], sync=True)
        beta -= np.linalg.solve(h + np.diag(pen), g + pen * beta)
    return time.perf_counter() - t


def nums_iterations(binary, rows, cols):
    out = subprocess.run(
        [binary, "--rows", str(rows), "--cols", str(cols), "--max-iter", str(ITERS), "--tol", "0",
         "--l2", str(ALPHA)], check=True, capture_output=True, text=True).stdout
    seconds = 0.0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0].isdigit() and 1 <= int(parts[0]) <= ITERS:
            seconds += float(parts[4])
    return seconds, out.splitlines()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--cols", type=int, default=32)
    ap.add_argument("--binary", default="build/examples/logistic_regression")
    a = ap.parse_args()

    nums_s, layout = nums_iterations(a.binary, a.rows, a.cols)
    print(f"nums   {ITERS} Newton iterations: {nums_s:.3f} s   ({layout})")

    xa, y = blobs(a.rows, a.cols, 1337)
    t = time.perf_counter()
    newton_numpy(xa, y)
    print(f"numpy  {ITERS} Newton iterations: {time.perf_counter() - t:.3f} s")

    chunks = max(1, a.rows // 8)
    secs = newton_dask(xa, y, chunks)
    print(f"dask   {ITERS} Newton iterations: {secs:.3f} s   (8 chunks, threads)")

    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        secs = newton_dask(xa, y, chunks, client)
    print(f"daskLC {ITERS} Newton iterations: {secs:.3f} s   (8 chunks, LocalCluster of 2 workers)")


if __name__ == "__main__":
    main()
