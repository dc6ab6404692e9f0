"""`policylang serve`: the policies as an HTTP service (Starlette on uvicorn; docs/serve.md).

`registry` loads and compiles each policy once and swaps in a new version only when it loads without
errors; `engine` reads a request's claims exactly as `eval` does and evaluates them; `describe` and
`openapi` say what a policy takes and gives; `app` is the ASGI application; `run` starts uvicorn and the
file watcher of `--reload`.
"""
