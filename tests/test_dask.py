"""The Dask runner on one module-scoped LocalCluster (2 worker processes): the same results as the single
process row for row, the same simulate report, and a worker killed mid-run loses or duplicates no row."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policylang.batch.run import run_file
from policylang.batch.synth import synthesize
from policylang.pipeline import load_policy
from policylang.scale.runner import eval_dask, simulate_dask, sweep_dask
from policylang.simulate.pair import Pair
from policylang.simulate.report import build
from policylang.simulate.run import simulate_file
from policylang.simulate.sweep import prepare, sweep_file

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parent.parent
BASE, REFORM = ROOT / "policies" / "zhoushan-2023-baseline.pol", ROOT / "policies" / "zhoushan-2023.pol"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def claims(tmp_path_factory) -> Path:
    """A person's claims spread over several row groups' worth of rows: the shuffle has work to do."""
    d = tmp_path_factory.mktemp("dask")
    synthesize(load_policy(REFORM), 1200, 11, d / "raw.parquet")
    pq.write_table(pq.read_table(d / "raw.parquet"), d / "claims.parquet", row_group_size=250)
    return d / "claims.parquet"


def _parts(out: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(f) for f in sorted(out.glob("part-*.parquet"))]).sort_by("row")


def test_eval_on_the_cluster_equals_the_single_process_row_for_row(client, claims, tmp_path):
    policy = load_policy(REFORM)
    summary = eval_dask(policy, str(claims), str(tmp_path / "out"), client=client, buckets=3)
    single = run_file(policy, claims, tmp_path / "single.parquet", progress=False)
    got = _parts(tmp_path / "out")
    assert summary.rows_out == single.rows_out == len(got) == 1200
    assert got.equals(pq.read_table(tmp_path / "single.parquet").cast(got.schema))
    assert not list(tmp_path.glob("*.partial"))


def test_simulate_and_sweep_on_the_cluster_equal_the_single_process(client, claims):
    pair = Pair.build(load_policy(BASE), load_policy(REFORM))
    here = simulate_file(pair, claims, progress=False)
    there = simulate_dask(pair, str(claims), client=client, buckets=3)
    assert build(here.tally, {}, {}, {}, False, "x") == build(there.tally, {}, {}, {}, False, "x")
    policies = prepare([load_policy(REFORM, {"居民普通门诊基层比例": v}) for v in ("55%", "65%")], False)
    assert sweep_file(policies, claims)[0] == sweep_dask(policies, str(claims), client=client, buckets=3)[0]


def _slow(bucket):
    time.sleep(1.5)


def test_a_worker_killed_mid_run_loses_and_duplicates_no_row(client, claims, tmp_path):
    """Every bucket task sleeps a moment; one worker process is killed while they run. Dask runs its tasks
    again on the other (or the restarted) worker: the parts are complete, each row exactly once."""
    policy = load_policy(REFORM)
    pids = list(client.run(os.getpid).values())
    done: dict = {}

    def run():
        try:
            done["summary"] = eval_dask(policy, str(claims), str(tmp_path / "out"), client=client, buckets=4, hook=_slow)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            done["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.time() + 30
    while time.time() < deadline and not any(client.processing().values()):
        time.sleep(0.05)
    time.sleep(0.5)
    assert thread.is_alive(), "the run ended before a worker could be killed: the test would prove nothing"
    os.kill(pids[0], signal.SIGKILL)
    thread.join(120)
    out = tmp_path / "out"
    if "error" in done:  # failing is allowed, but clearly and without a complete-looking output
        assert "worker" in str(done["error"]) and not out.exists()
    else:
        got = _parts(out)
        rows = got.column("row").to_pylist()
        assert rows == list(range(1, 1201)) and done["summary"].rows_out == 1200
    assert not list(tmp_path.glob("*.partial"))


def test_a_partition_is_type_checked_and_normalised_for_its_policy(claims):
    """evaluate_partition (the entry point of Dask, Spark and notebooks) reads money of three places as fen,
    as `eval --out` does, and refuses a float money column rather than evaluating it."""
    from policylang.batch.columns import BadFile
    from policylang.scale.partition import ROW, evaluate_partition

    policy = load_policy(REFORM)
    t = pq.read_table(claims).slice(0, 300)
    t = t.append_column(ROW, pa.array(range(1, len(t) + 1), pa.int64()))
    at = t.schema.get_field_index("inscp_scp_amt")
    want, _ = evaluate_partition(policy, t)
    got, _ = evaluate_partition(policy, t.set_column(at, "inscp_scp_amt", t["inscp_scp_amt"].cast(pa.decimal128(20, 3))))
    assert len(want) > 0
    assert got.equals(want)
    with pytest.raises(BadFile, match="inscp_scp_amt.*binary floating-point"):
        evaluate_partition(policy, t.set_column(at, "inscp_scp_amt", t["inscp_scp_amt"].cast(pa.float64())))
