"""`policylang serve` over real HTTP: the server runs in a subprocess on a free loopback port and the tests
talk to it with httpx, as a hospital's HIS would. Results must be `policylang eval`'s, bad input a 4xx with
the claim edge's reasons, and a broken edit under --reload must leave the last good version serving."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jsonschema
import pytest

from policylang.trace import render
from policylang.trace.schema import problems

ROOT = Path(__file__).resolve().parent.parent
POLICYLANG = str(Path(sys.executable).with_name("policylang"))
CLAIMS = [json.loads(line) for line in (ROOT / "examples" / "shaoxing-claims.jsonl").read_text(encoding="utf-8").splitlines()
          if line.strip()]
CLAIM = {"psn_no": "p1", "begntime": "2024-03-01", "insutype": "390", "med_type": "14", "dedc_hosp_lv": "基层",
         "dise_codg": "A15.0", "就医地": "市内", "已备案慢病": True, "inscp_scp_amt": "1000.00"}
MAX_BODY = 65536


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`policylang serve ARGS` on a free port; its log (stderr and stdout) goes to a file the test can read."""

    def __init__(self, tmp: Path, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"serve-{self.port}.log"
        self.log_file = open(self.log_path, "wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("POLICYLANG_DEBUG", None)
        self.process = subprocess.Popen([POLICYLANG, "serve", *args, "--port", str(self.port)], cwd=tmp,
                                        stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"the server exited:\n{self.log()}"
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the server did not answer within 60 s:\n{self.log()}"
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self):
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("serve"), str(ROOT / "policies"), "--max-body", str(MAX_BODY))
    yield s
    s.stop()


def run_cli(*args: str) -> tuple[int, str, str]:
    """`policylang ARGS` in this process (a subprocess per claim would cost the CI budget its start-up)."""
    from policylang.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def cli_eval(*args: str):
    code, out, err = run_cli("eval", *args)
    assert code == 0, err
    return json.loads(out)


def without_position(data):
    """Positions name where a claim came from (`--claim`, `body.claims[2]`); everything else must be equal."""
    if isinstance(data, list):
        return [without_position(x) for x in data]
    if isinstance(data, dict):
        return {k: without_position(v) for k, v in data.items() if k != "position"}
    return data


def assert_error(response, status: int):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] and body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


# ---- the endpoints -------------------------------------------------------------------------------
def test_healthz(server):
    r = server.client.get("/healthz")
    assert r.json() == {"status": "ok", "policies": 5, "stale": []} and r.headers["x-request-id"]


def test_policies_lists_identity(server):
    from policylang.pipeline import load_policy
    from policylang.trace import identity

    listed = {p["id"]: p for p in server.client.get("/policies").json()}
    assert sorted(listed) == sorted(p.stem for p in (ROOT / "policies").glob("*.pol"))
    shaoxing = listed["shaoxing-2024"]
    ident = identity(load_policy(ROOT / "policies" / "shaoxing-2024.pol"), policy_id="shaoxing-2024")
    assert shaoxing == {**ident.as_json(), "status": "ok"}
    assert shaoxing["document"] == "绍政办发〔2023〕40号" and shaoxing["in_force"]["start"] == "2024-01-01"


def test_policy_detail_names_inputs_members_codes_outputs(server):
    detail = server.client.get("/policies/shaoxing-2024").json()
    inputs = {i["name"]: i for i in detail["inputs"]}
    assert inputs["政策范围内费用"]["type"] == "money" and inputs["政策范围内费用"]["field"] == "inscp_scp_amt"
    members = {m["name"]: m["codes"] for m in inputs["险种"]["members"]}
    assert "390" in members["城乡居民"]
    assert [o["name"] for o in detail["outputs"]] == ["起付线", "报销比例", "统筹支付"]
    assert {o["platform"] for o in detail["outputs"]} >= {"hifp_pay"}
    assert detail["reload"]["status"] == "ok" and detail["accumulators"][0]["name"] == "慢病净报销"
    assumed = server.client.get("/policies/zhoushan-2023-baseline").json()["assumptions"]
    assert all(a["name"] and "value" in a for a in assumed)


def test_evaluate_equals_eval_on_the_same_claims(server, tmp_path):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(CLAIMS, ensure_ascii=False), encoding="utf-8")
    expected = cli_eval("policies/shaoxing-2024.pol", "--claims", str(path))
    r = server.client.post("/policies/shaoxing-2024/evaluate", json={"claims": CLAIMS})
    assert r.status_code == 200, r.text
    assert without_position(r.json()) == without_position(expected)
    assert [x["position"] for x in r.json()] == [f"body.claims[{i}]" for i in range(1, len(CLAIMS) + 1)]
    one = server.client.post("/policies/shaoxing-2024/evaluate", json={"claim": CLAIM}).json()
    assert without_position(one) == without_position(cli_eval("policies/shaoxing-2024.pol", "--claim",
                                                               json.dumps(CLAIM, ensure_ascii=False)))


def test_evaluate_with_explain_equals_eval_explain(server):
    expected = cli_eval("policies/shaoxing-2024.pol", "--explain", "--claim", json.dumps(CLAIM, ensure_ascii=False))
    r = server.client.post("/policies/shaoxing-2024/evaluate", json={"claim": CLAIM, "explain": True})
    assert without_position(r.json()) == without_position(expected)
    assert problems(r.json()["explain"]) == []


def test_state_is_the_year_to_date_before_the_earliest_claim(server):
    with_state = {**CLAIM, "state": {"慢病净报销": "1000.00"}}
    expected = cli_eval("policies/shaoxing-2024.pol", "--claim", json.dumps(with_state, ensure_ascii=False))
    r = server.client.post("/policies/shaoxing-2024/evaluate", json={"claim": CLAIM, "state": {"慢病净报销": "1000.00"}})
    assert without_position(r.json()) == without_position(expected)
    assert r.json()["outputs"]["统筹支付"] == "200.00", "1200 元 limit less 1000 already paid"
    later = {**CLAIM, "begntime": "2024-05-01"}
    both = server.client.post("/policies/shaoxing-2024/evaluate",
                              json={"claims": [later, CLAIM], "state": {"慢病净报销": "1000.00"}}).json()
    assert both[1]["state"]["慢病净报销"]["before"] == "1000.00", "the earliest claim, not the first written"
    assert both[0]["outputs"]["统筹支付"] == "0.00"


def test_explain_returns_trace_and_narrative(server):
    r = server.client.post("/policies/shaoxing-2024/explain", json={"claim": CLAIM})
    assert r.status_code == 200
    body = r.json()
    assert problems(body["trace"]) == []
    assert body["narrative"] == render(body["trace"])
    assert "报销比例 70%" in body["narrative"]
    many = server.client.post("/policies/shaoxing-2024/explain", json={"claims": CLAIMS[:3]}).json()
    assert len(many) == 3 and all(problems(x["trace"]) == [] for x in many)


def test_every_policy_answers_its_examples_as_eval(server):
    """One claim per policy, built from its first example: the service and eval agree on every policy."""
    from policylang.claims import format_typed
    from policylang.pipeline import load_policy

    for path in sorted((ROOT / "policies").glob("*.pol")):
        policy = load_policy(path)
        step = policy.examples[0].steps[0]
        claim = {name: (value if isinstance(value, bool) else format_typed(value, policy.inputs[name].type))
                 for name, value, _ in step.inputs}
        expected = cli_eval(str(path.relative_to(ROOT)), "--claim", json.dumps(claim, ensure_ascii=False))
        got = server.client.post(f"/policies/{path.stem}/evaluate", json={"claim": claim}).json()
        assert without_position(got) == without_position(expected), path.name


# ---- bad input -----------------------------------------------------------------------------------
def test_malformed_json_is_400(server):
    body = assert_error(server.client.post("/policies/shaoxing-2024/evaluate", content=b'{"claim": {'), 400)
    assert body["errors"][0]["message"].startswith("invalid JSON")


def test_wrong_types_and_unknown_codes_are_422_with_every_reason(server):
    bad = {**CLAIM, "inscp_scp_amt": [1000], "insutype": "399", "dedc_hosp_lv": 3.5, "extra": 1}
    body = assert_error(server.client.post("/policies/shaoxing-2024/evaluate", json={"claim": bad}), 422)
    fields = {e["field"]: e for e in body["errors"]}
    assert {"inscp_scp_amt", "insutype", "dedc_hosp_lv", "extra"} <= set(fields)
    assert all(e["position"] == "body.claim" for e in body["errors"])
    assert "399" in fields["insutype"]["message"]
    assert "no claim was evaluated" in body["error"]


def test_the_same_reasons_as_eval(server):
    """The edge's words, field and hint are eval's, whichever door the claim came in by."""
    bad = {**CLAIM, "inscp_scp_amt": "-1000.001", "begntime": "2024-13-01"}
    code, _, err = run_cli("eval", "policies/shaoxing-2024.pol", "--claim", json.dumps(bad))
    assert code == 2
    body = assert_error(server.client.post("/policies/shaoxing-2024/evaluate", json={"claim": bad}), 422)
    assert len(body["errors"]) == err.count("error: ") == 2
    for e in body["errors"]:
        assert f"field `{e['field']}`: {e['message']}" in err


def test_bad_bodies(server):
    post = lambda body: server.client.post("/policies/shaoxing-2024/evaluate", json=body)  # noqa: E731
    assert_error(post([CLAIM]), 422)
    assert_error(post({"claim": CLAIM, "claims": [CLAIM]}), 422)
    assert_error(post({}), 422)
    assert_error(post({"claims": {}}), 422)
    assert_error(post({"claims": []}), 422)
    assert_error(post({"claim": CLAIM, "explain": "yes"}), 422)
    assert_error(post({"claim": CLAIM, "stat": {}}), 422)
    assert_error(post({"claim": CLAIM, "state": {"没有": "1"}}), 422)
    two = [CLAIM, {**CLAIM, "psn_no": "p2"}]
    assert "one person" in assert_error(post({"claims": two, "state": {"慢病净报销": "1"}}), 422)["errors"][0]["message"]
    assert_error(server.client.post("/policies/shaoxing-2024/evaluate", content="{\"claim\": 1}".encode("utf-16")), 400)


def test_oversized_body_is_413(server):
    big = {"claims": [CLAIM] * 400}
    assert len(json.dumps(big)) > MAX_BODY
    body = assert_error(server.client.post("/policies/shaoxing-2024/evaluate", json=big), 413)
    assert str(MAX_BODY) in body["error"]

    def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(100):
            yield b" " * 1024
    assert_error(server.client.post("/policies/shaoxing-2024/evaluate", content=chunks()), 413)


def test_unknown_policy_and_endpoint_are_404(server):
    body = assert_error(server.client.post("/policies/nope/evaluate", json={"claim": CLAIM}), 404)
    assert "shaoxing-2024" in body["error"]
    assert_error(server.client.get("/policies/nope"), 404)
    assert_error(server.client.get("/nothing-here"), 404)
    assert_error(server.client.get("/policies/shaoxing-2024/evaluate"), 405)


def test_a_request_id_given_is_kept(server):
    r = server.client.get("/healthz", headers={"x-request-id": "his-42"})
    assert r.headers["x-request-id"] == "his-42"
    forged = server.client.get("/healthz", headers={"x-request-id": "x\tERROR fake log line"})
    assert forged.headers["x-request-id"] != "x\tERROR fake log line", "only a plain token goes into the log"


def test_internal_error_is_500_with_the_logged_request_id(monkeypatch, caplog):
    """In-process: a bug cannot be provoked from outside a correct server, so one is planted."""
    import asyncio

    from policylang.serve import engine
    from policylang.serve.app import create_app
    from policylang.serve.registry import Registry

    def broken(*args):
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(engine, "evaluate", broken)
    app = create_app(Registry([ROOT / "policies" / "shaoxing-2024.pol"]))
    async def call():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as c:
            return await c.post("/policies/shaoxing-2024/evaluate", json={"claim": CLAIM})

    with caplog.at_level(logging.ERROR, logger="policylang.serve"):
        r = asyncio.run(call())
    body = assert_error(r, 500)
    assert "planted" not in r.text and "ZeroDivisionError" not in r.text
    logged = [rec for rec in caplog.records if body["request_id"] in rec.getMessage()]
    assert logged and logged[0].exc_info and "planted" in str(logged[0].exc_info[1])


# ---- OpenAPI -------------------------------------------------------------------------------------
def _validator(doc: dict, name: str):
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def test_openapi_document_is_well_formed(server):
    doc = server.client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"] and doc["info"]["version"]
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for method, op in item.items():
            assert method in ("get", "post") and op["responses"], (path, method)
            for status, response in op["responses"].items():
                assert status.isdigit() and response["description"]
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    refs = []

    def walk(node):
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    for ref in refs:  # every reference resolves inside the document
        node = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    assert {"/policies/shaoxing-2024/evaluate", "/policies/zibo-2023/explain", "/healthz"} <= set(doc["paths"])


def test_openapi_schemas_accept_what_the_service_accepts(server):
    doc = server.client.get("/policies/shaoxing-2024/openapi.json").json()
    assert set(doc["paths"]) == {"/policies/shaoxing-2024", "/policies/shaoxing-2024/openapi.json",
                                 "/policies/shaoxing-2024/evaluate", "/policies/shaoxing-2024/explain"}
    claim = doc["components"]["schemas"]["shaoxing-2024.Claim"]
    assert "390" in claim["properties"]["insutype"]["enum"] and "城乡居民" in claim["properties"]["险种"]["enum"]
    request = _validator(doc, "shaoxing-2024.Request")
    for c in CLAIMS:
        request.validate({"claim": c})
    request.validate({"claims": CLAIMS, "explain": True})
    assert not request.is_valid({"claim": {**CLAIM, "insutype": "399"}}), "an unknown code"
    assert not request.is_valid({"claim": {**CLAIM, "inscp_scp_amt": "1.001"}})
    assert not request.is_valid({"claim": {k: v for k, v in CLAIM.items() if k != "begntime"}})
    result = server.client.post("/policies/shaoxing-2024/evaluate", json={"claims": CLAIMS, "explain": True}).json()
    for r in result:
        _validator(doc, "Result").validate(r)
    explained = server.client.post("/policies/shaoxing-2024/explain", json={"claim": CLAIM}).json()
    _validator(doc, "Explained").validate(explained)
    error = server.client.post("/policies/shaoxing-2024/evaluate", json={"claim": {}}).json()
    _validator(doc, "Error").validate(error)
    assert not _validator(doc, "Explained").is_valid({**explained, "trace": {**explained["trace"], "format": "x"}})


# ---- --reload ------------------------------------------------------------------------------------
def _wait(predicate, what: str, server: Server, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s:\n{server.log()}"
        time.sleep(0.2)


def test_reload_swaps_a_good_edit_and_keeps_serving_through_a_broken_one(tmp_path):
    source = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    work = tmp_path / "policies"
    work.mkdir()
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # the root `conforms to` may reach
    shutil.copytree(ROOT / "guidelines", tmp_path / "guidelines")
    pol = work / "shaoxing-2024.pol"
    pol.write_text(source, encoding="utf-8")
    row = re.search(r"基层,\s+肺结核 -> 70%", source).group(0)  # the row as the formatter aligned it
    assert source.count(row) == 1
    s = Server(tmp_path, str(work), "--reload")
    try:
        pay = lambda: s.client.post("/policies/shaoxing-2024/evaluate", json={"claim": CLAIM}).json()["outputs"]["统筹支付"]  # noqa: E731
        status = lambda: s.client.get("/policies/shaoxing-2024").json()["reload"]  # noqa: E731
        assert pay() == "700.00"
        first_hash = s.client.get("/policies").json()[0]["content_hash"]

        pol.write_text(source.replace(row, row.replace("70%", "72%")), encoding="utf-8")
        _wait(lambda: pay() == "720.00", "the good edit being served", s)
        good_hash = s.client.get("/policies").json()[0]["content_hash"]
        assert good_hash != first_hash and status()["status"] == "ok"

        pol.write_text(source.replace(row, row.replace("70%", "72%%%")), encoding="utf-8")
        _wait(lambda: status()["status"] == "stale", "the broken edit being reported", s)
        report = status()
        assert report["serving"] == good_hash and "error" in report["error"] and "shaoxing-2024.pol" in report["error"]
        assert pay() == "720.00", "the last good version still answers"
        assert s.client.get("/healthz").json()["stale"] == ["shaoxing-2024"]
        assert "has errors; still serving" in s.log()

        pol.write_text(source, encoding="utf-8")
        _wait(lambda: status()["status"] == "ok", "the fixed file being served", s)
        assert pay() == "700.00"
    finally:
        s.stop()


# ---- docs/serve.md -------------------------------------------------------------------------------
def doc_examples() -> list:
    """Each ```text block of docs/serve.md that starts with `$ curl`: (command, shown output)."""
    text = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```text\n(.*?)```", text, re.S):
        lines = block.rstrip("\n").splitlines()
        if lines and lines[0].startswith("$ curl "):
            out.append((lines[0][2:], lines[1:]))
    return out


def shown_matches(shown, real) -> bool:
    """The docs abridge: a string ending in … matches by its beginning, a list ending in … shows some of the
    items (in order), and an object some of the keys; everything shown must be what the service answers."""
    if isinstance(shown, str) and shown.endswith("…"):
        return isinstance(real, str) and real.startswith(shown[:-1])
    if isinstance(shown, dict):
        return isinstance(real, dict) and all(k in real and shown_matches(v, real[k]) for k, v in shown.items())
    if isinstance(shown, list):
        if shown and shown[-1] == "…":
            rest = iter(real if isinstance(real, list) else ())
            return isinstance(real, list) and all(any(shown_matches(item, r) for r in rest) for item in shown[:-1])
        return isinstance(real, list) and len(real) == len(shown) and all(map(shown_matches, shown, real))
    return shown == real


@pytest.mark.parametrize("example", range(len(doc_examples())))
def test_docs_serve_examples_are_what_the_service_answers(server, example):
    command, shown = doc_examples()[example]
    words = shlex.split(command)
    assert words[0] == "curl"
    method = words[words.index("-X") + 1] if "-X" in words else "GET"
    data = words[words.index("-d") + 1].encode("utf-8") if "-d" in words else None
    url = next(w for w in words if w.startswith("http://127.0.0.1:8000/")).replace("http://127.0.0.1:8000", server.url)
    status = 200
    if "-w" in words:
        assert shown[-1].startswith("HTTP "), command
        status = int(shown.pop()[5:])
    r = server.client.request(method, url, content=data)
    assert r.status_code == status, (command, r.text)
    doc = re.sub(r'([,\[]\s*)…(\s*\])', r'\1"…"\2', "\n".join(shown))
    assert shown_matches(json.loads(doc), r.json()), f"docs/serve.md shows for `{command}`:\n{doc}\nthe service answers:\n{r.text}"


def test_the_load_test_runs_against_the_service(server):
    """benchmarks/bench_serve.py, briefly, against this server: every answer checked, zero errors."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_serve.py"), "--url", server.url,
                           "--requests", "200", "--clients", "4", "--explain-every", "3"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answered 200 in" in done.stdout and "errors: 0" in done.stdout


def test_a_policy_with_errors_or_two_with_one_id_stop_the_start(tmp_path):
    """Before anything listens: exit 2 with the errors as check prints them (in-process: it never reaches uvicorn)."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    broken = tmp_path / "broken.pol"
    broken.write_text((ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8") + "\nrule 坏 = 1元 +\n",
                      encoding="utf-8")
    code, _, err = run_cli("serve", str(broken), "--port", "1")
    assert code == 2 and "error" in err and "broken.pol" in err
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.pol").write_text((ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    code, _, err = run_cli("serve", str(tmp_path / "a"), str(tmp_path / "b"), "--port", "1")
    assert code == 2 and "would both be `x`" in err


def test_refresh_reports_each_broken_edit_once_and_follows_the_files(tmp_path):
    """The watcher's pass, in-process: a broken edit is reported once, not every half second; a file put back
    as it was clears the report; a new file that does not load is reported once; a deleted one is reported."""
    from policylang.serve.registry import Registry

    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    shutil.copytree(ROOT / "guidelines", tmp_path / "guidelines")
    work = tmp_path / "policies"
    work.mkdir()
    source = (ROOT / "policies" / "shaoxing-2024.pol").read_text(encoding="utf-8")
    pol = work / "shaoxing-2024.pol"
    pol.write_text(source, encoding="utf-8")
    registry = Registry([work])
    serving = registry.get("shaoxing-2024")
    stamp = os.stat(pol).st_mtime_ns
    assert registry.refresh() == []

    pol.write_text(source + "\nrule 坏 = 1元 +\n", encoding="utf-8")
    os.utime(pol, ns=(stamp + 10**9, stamp + 10**9))
    said = registry.refresh()
    assert len(said) == 1 and "has errors; still serving" in said[0]
    assert registry.get("shaoxing-2024") is serving and serving.problem
    assert registry.refresh() == [], "the same broken edit is not reported again"

    pol.write_text(source, encoding="utf-8")
    os.utime(pol, ns=(stamp, stamp))
    assert registry.refresh() == [f"policy shaoxing-2024: {pol} is back to the version serving"]
    assert serving.problem is None

    (work / "new.pol").write_text("policy 坏 {\n", encoding="utf-8")
    assert len(registry.refresh()) == 1 and registry.refresh() == []
    assert registry.get("new") is None

    pol.unlink()
    said = registry.refresh()
    assert len(said) == 1 and "is gone" in said[0] and registry.get("shaoxing-2024") is serving
