"""simulate vs one eval over the same claims (the ratio; target under 2×), and eval on a 2-worker Dask
LocalCluster vs the single process. Sizes by flag; the issue's sizes are --n 10000000 --dask-n 2000000.

    PYTHONPATH=. python benchmarks/bench_simulate.py --n 20000 --dask-n 20000     # a quick run
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE, REFORM = ROOT / "policies" / "zhoushan-2023-baseline.pol", ROOT / "policies" / "zhoushan-2023.pol"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000, help="claims for simulate vs eval")
    ap.add_argument("--dask-n", type=int, default=100_000, help="claims for Dask vs single process (0: skip)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from policylang.batch.run import run_file
    from policylang.batch.synth import synthesize
    from policylang.pipeline import load_policy
    from policylang.simulate.pair import Pair
    from policylang.simulate.run import simulate_file

    base, reform = load_policy(BASE), load_policy(REFORM)
    work = Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    try:
        claims = work / "claims.parquet"
        synthesize(reform, args.n, args.seed, claims)
        pair = Pair.build(base, reform)
        t = time.perf_counter()
        run_file(pair.reform, claims, work / "eval.parquet", progress=False)
        one_eval = time.perf_counter() - t
        t = time.perf_counter()
        simulate_file(pair, claims, progress=False)
        sim = time.perf_counter() - t
        print(f"claims {args.n}: engine {pair.reform_engine.name}; eval {one_eval:.2f} s; simulate {sim:.2f} s; "
              f"ratio {sim / one_eval:.2f}× (target < 2×)")
        if args.dask_n:
            from dask.distributed import Client, LocalCluster

            from policylang.scale.runner import eval_dask

            import pyarrow.parquet as pq

            dclaims = work / "dask.parquet"
            synthesize(reform, args.dask_n, args.seed + 1, work / "raw.parquet")
            pq.write_table(pq.read_table(work / "raw.parquet"), dclaims, row_group_size=100_000)
            t = time.perf_counter()
            run_file(reform, dclaims, work / "single.parquet", progress=False)
            single = time.perf_counter() - t
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                t = time.perf_counter()
                eval_dask(reform, str(dclaims), str(work / "dask-out"), client=client)
                dask = time.perf_counter() - t
            print(f"claims {args.dask_n}: single process {single:.2f} s; Dask 2 workers {dask:.2f} s "
                  f"(cluster start not counted); speed-up {single / dask:.2f}×")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
