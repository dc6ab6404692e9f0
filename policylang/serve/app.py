"""The ASGI application: routes, the body size limit, errors as JSON with a request id.

Evaluation runs on the event loop for small bodies (a claim takes well under a millisecond, and a thread
hop costs more than that under the GIL) and in the thread pool for large ones, so one big batch does not
hold up the small requests queued behind it.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import uuid

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policylang.serve import describe, engine, openapi
from policylang.serve.engine import BadRequest
from policylang.serve.registry import Registry, watch

log = logging.getLogger("policylang.serve")
MAX_BODY = 1024 * 1024  # bytes: about 2,000 claims; a settlement system sends a person's claims, not a day's
INLINE_CLAIMS = 32  # more claims than this are evaluated in the thread pool


class JSON(JSONResponse):
    """JSON as eval prints it: UTF-8, Chinese as is."""

    def render(self, content) -> bytes:
        import json

        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id(request: Request) -> str:
    """The caller's X-Request-ID when it is a plain token (it goes into the log and a header), else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if SAFE_ID.match(given) else uuid.uuid4().hex[:16]


def create_app(registry: Registry, max_body: int = MAX_BODY, reload: bool = False, interval: float = 0.5) -> Starlette:
    def handled(endpoint):
        """Every answer carries X-Request-ID; a bad request is its 4xx with reasons; anything else is a 500
        whose id is in the log line with the traceback and in the response, never the traceback itself."""
        @functools.wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            rid = request_id(request)
            try:
                response = await endpoint(request)
            except BadRequest as exc:
                response = JSON({**exc.as_json(), "request_id": rid}, status_code=exc.status)
            except Exception:  # noqa: BLE001 - the last line of defence: logged, never shown
                log.exception("internal error, request %s %s %r", rid, request.method, request.url.path)
                response = JSON({"error": "internal error: this is a bug in policylang; the log has its details",
                                 "request_id": rid}, status_code=500)
            response.headers["x-request-id"] = rid
            return response
        return wrapper

    def entry_of(request: Request):
        policy_id = request.path_params["policy_id"]
        entry = registry.get(policy_id)
        if entry is None:
            known = ", ".join(sorted(registry.entries)) or "none"
            raise BadRequest(404, f"no policy `{policy_id}`; served: {known}")
        return entry

    async def body_of(request: Request):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise BadRequest(413, f"the body is {declared} bytes; the limit is {max_body} bytes (--max-body)")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise BadRequest(413, f"the body is over the limit of {max_body} bytes (--max-body)")
            chunks.append(chunk)
        return engine.parse_body(b"".join(chunks))

    async def claims_of(request: Request):
        entry = entry_of(request)
        claims, single, explain = engine.read_request(entry, await body_of(request))
        return entry, claims, single, explain

    async def run(fn, claims, *args):
        return await run_in_threadpool(fn, *args) if len(claims) > INLINE_CLAIMS else fn(*args)

    @handled
    async def healthz(request):
        stale = sorted(e.id for e in registry.entries.values() if e.problem is not None)
        return JSON({"status": "ok", "policies": len(registry.entries), "stale": stale})

    @handled
    async def policies(request):
        return JSON([describe.summary(e) for e in registry.entries.values()])

    @handled
    async def policy(request):
        return JSON(describe.detail(entry_of(request)))

    @handled
    async def evaluate(request):
        entry, claims, single, explain = await claims_of(request)
        results = await run(engine.evaluate, claims, entry, claims, explain)
        return JSON(results[0] if single else results)

    @handled
    async def explain(request):
        entry, claims, single, _ = await claims_of(request)
        results = await run(engine.explained, claims, entry, claims)
        return JSON(results[0] if single else results)

    @handled
    async def spec(request):
        return JSON(openapi.document(registry))

    @handled
    async def policy_spec(request):
        return JSON(openapi.document(registry, entry_of(request).id))

    async def http_error(request, exc: HTTPException):
        rid = request_id(request)
        text = {404: f"no such endpoint: {request.method} {request.url.path}",
                405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, exc.detail)
        return JSON({"error": text, "request_id": rid}, status_code=exc.status_code,
                    headers={**(exc.headers or {}), "x-request-id": rid})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        stop = threading.Event()
        watcher = None
        if reload:
            watcher = threading.Thread(target=watch, args=(registry, stop, interval), name="policylang-reload",
                                       daemon=True)
            watcher.start()
            log.info("watching %d policies for changes", len(registry.entries))
        try:
            yield
        finally:
            stop.set()
            if watcher is not None:
                watcher.join(timeout=5)

    routes = [Route("/healthz", healthz), Route("/openapi.json", spec), Route("/policies", policies),
              Route("/policies/{policy_id}", policy), Route("/policies/{policy_id}/openapi.json", policy_spec),
              Route("/policies/{policy_id}/evaluate", evaluate, methods=["POST"]),
              Route("/policies/{policy_id}/explain", explain, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan)
