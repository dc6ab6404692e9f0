"""How much does `policylang serve` answer on this machine: a bounded load test on loopback.

Why this exists: a settlement module calls the service once per claim, many at a time; the service must
answer every one of them right (zero errors, every body equal to what `policylang eval` computes for the
same claim) and fast enough. It starts `policylang serve policies/` on a free 127.0.0.1 port (or uses
--url), sends --requests requests (default 20,000) from --clients concurrent clients (default 16, one
keep-alive connection each), and stops by itself when they are answered. Each request is one claim of
examples/shaoxing-claims.jsonl (round robin) to POST /policies/shaoxing-2024/evaluate; one in --explain-every
(default 10) asks for the trace as well. It prints throughput and p50/p90/p99/max latency and exits 1 on any
error (a non-200, a wrong body, a connection failure). Timings are reported, never asserted.

One uvicorn worker: the machine has 2 cores and the load generator needs one of them; a second worker
would only take turns with the client (and each worker loads and compiles every policy, and under
--reload would hold its own copy of the policies).

Run:  make bench-serve   or   .venv/bin/python benchmarks/bench_serve.py [--requests N] [--clients C] [--url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
POLICY = "shaoxing-2024"
CLAIMS = ROOT / "examples" / "shaoxing-claims.jsonl"


def expected_results(claims: list) -> list:
    """What `policylang eval` prints for each claim on its own (in this process, through its main)."""
    from policylang.cli import main

    out = []
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for claim in claims:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                main(["eval", f"policies/{POLICY}.pol", "--claim", json.dumps(claim, ensure_ascii=False)])
            record = json.loads(buffer.getvalue())
            record.pop("position")
            out.append(record)
    finally:
        os.chdir(cwd)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([str(Path(sys.executable).with_name("policylang")), "serve", str(ROOT / "policies"),
                                "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited:\n{process.stderr.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class Connection:
    """One keep-alive HTTP/1.1 connection, as light as a client can be, so the load generator spends as
    little of the machine's two cores as it can (httpx costs several times the server's time per request)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return int(status_line.split()[1]), payload

    def close(self):
        if self.writer is not None:
            self.writer.close()


async def load(url: str, claims: list, expected: list, requests: int, clients: int, explain_every: int):
    latencies: list = []
    errors: list = []
    counter = iter(range(requests))
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    bodies = [(json.dumps({"claim": c}, ensure_ascii=False).encode(),
               json.dumps({"claim": c, "explain": True}, ensure_ascii=False).encode()) for c in claims]

    async def client():
        connection = Connection(host, int(port))
        try:
            for n in counter:
                i = n % len(claims)
                explain = explain_every > 0 and n % explain_every == 0
                start = time.perf_counter()
                try:
                    status, payload = await connection.post(f"/policies/{POLICY}/evaluate", bodies[i][explain])
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    errors.append(f"request {n}: {type(exc).__name__}: {exc}")
                    connection.close()
                    connection = Connection(host, int(port))
                    continue
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors.append(f"request {n}: HTTP {status} {payload[:200]!r}")
                    continue
                got = json.loads(payload)
                got.pop("position", None)
                trace = got.pop("explain", None)
                if got != expected[i] or (explain and (trace is None or trace.get("format") != "policylang.trace/1")):
                    errors.append(f"request {n}: the body differs from eval's for claim {i + 1}")
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - start


def percentile(sorted_values: list, p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--explain-every", type=int, default=10, help="one request in N asks for the trace (0: none)")
    parser.add_argument("--url", help="an already running `policylang serve` with policies/ (default: start one)")
    args = parser.parse_args()
    claims = [json.loads(line) for line in CLAIMS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for claim in claims:
        claim.pop("state", None)
    expected = expected_results(claims)
    with (contextlib.nullcontext(args.url) if args.url else server()) as url:
        latencies, errors, wall = asyncio.run(load(url, claims, expected, args.requests, args.clients,
                                                   args.explain_every))
    latencies.sort()
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    print(f"policylang serve, {POLICY}: {args.requests} requests from {args.clients} clients on loopback "
          f"({os.cpu_count()} CPUs, Python {platform.python_version()}, one uvicorn worker; "
          f"1 in {args.explain_every or '∞'} with the trace)")
    print(f"  answered {len(latencies)} in {wall:.2f} s: {len(latencies) / wall:.0f} requests/s")
    print(f"  latency p50 {ms(percentile(latencies, 50))}, p90 {ms(percentile(latencies, 90))}, "
          f"p99 {ms(percentile(latencies, 99))}, max {ms(latencies[-1]) if latencies else '-'}")
    print(f"  errors: {len(errors)}")
    for line in errors[:10]:
        print(f"    {line}")
    return 1 if errors or len(latencies) != args.requests else 0


if __name__ == "__main__":
    sys.exit(main())
