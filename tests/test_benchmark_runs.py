"""The benchmark runs and its three evaluators agree; it never asserts a time."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_quick_run_agrees():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_shaoxing.py"), "--quick"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: compiled and hand-written equal the interpreter" in done.stdout
