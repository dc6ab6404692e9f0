"""benchmarks/bench_batch.py runs end to end on a few claims: the numpy kernel equals policylang claim for
claim (it stops otherwise), OpenFisca's model runs, and the streamed 淄博 run reports; no time is asserted."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_batch_small_run(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_batch.py"), "--claims", "3000",
                           "--big", "1500", "--scalar-sample", "500", "--batch-size", "700"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: numpy_shaoxing equals policylang on all 3000 claims" in done.stdout
    assert "OpenFisca's 统筹支付 differs from the exact amount" in done.stdout
    assert "rows: 1500 in = 1500 out + 0 rejected" in done.stdout
    assert "peak RSS" in done.stdout
