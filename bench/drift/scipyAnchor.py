"""The anchor of bench/drift: scipy.stats.ks_2samp and wasserstein_distance on the numeric columns
of the reference and current CSVs the benchmark wrote. Loading (np.loadtxt) is not timed; only the
statistics are. Rounds are run on request so the benchmark can interleave them with its own.

Usage: python3 scipyAnchor.py REFERENCE.csv CURRENT.csv COLUMNS
(COLUMNS: comma-separated 0-based indexes of the numeric columns.) Prints one JSON line with the
versions and the loading time, then one JSON line per `round` line read on stdin, until stdin ends.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats


def load(file, columns):
    table = np.loadtxt(file, delimiter=",", skiprows=1, usecols=columns, dtype=np.float64)
    return [np.ascontiguousarray(table[:, k]) for k in range(len(columns))]


def one_round(ref, cur):
    ks_total = 0.0
    w_total = 0.0
    cpu0 = time.thread_time()
    results = []
    for a, b in zip(ref, cur):
        t = time.perf_counter()
        ks = stats.ks_2samp(a, b)
        ks_total += time.perf_counter() - t
        t = time.perf_counter()
        w = stats.wasserstein_distance(a, b)
        w_total += time.perf_counter() - t
        results.append({"ks": float(ks.statistic), "p": float(ks.pvalue), "wasserstein": float(w)})
    # The CPU time of this thread as well: on a loaded machine it moves less than the wall time.
    cpu_ms = (time.thread_time() - cpu0) * 1000
    return {"ks_ms": ks_total * 1000, "wasserstein_ms": w_total * 1000, "cpu_ms": cpu_ms, "columns": results}


def main():
    ref_file, cur_file, columns_text = sys.argv[1:4]
    columns = [int(c) for c in columns_text.split(",")]
    t0 = time.perf_counter()
    ref = load(ref_file, columns)
    cur = load(cur_file, columns)
    load_ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"scipy": scipy.__version__, "numpy": np.__version__, "load_ms": load_ms}), flush=True)
    for line in sys.stdin:
        if line.strip() == "round":
            print(json.dumps(one_round(ref, cur)), flush=True)


main()
