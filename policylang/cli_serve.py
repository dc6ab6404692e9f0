"""`policylang serve PATHS`: the policies as an HTTP service (docs/serve.md). Registered in cli.py."""
from __future__ import annotations

import logging

import click

from policylang.serve.app import MAX_BODY


@click.command("serve")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep the loopback default behind a reverse proxy.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--reload", is_flag=True,
              help="Watch the policy files; swap a policy in only when its new version loads without errors.")
@click.option("--max-body", type=click.IntRange(min=1024), default=MAX_BODY, show_default=True,
              help="Largest request body in bytes; a larger one is answered 413.")
@click.option("--assume", "assume", multiple=True, metavar="NAME=VALUE",
              help="Override a named assumption, as for eval: every policy served must declare it (repeatable).")
def serve_command(paths, host, port, reload, max_body, assume):
    """Serve the policies in PATHS (default: policies/) over HTTP: evaluate, explain, describe, OpenAPI."""
    import uvicorn

    from policylang.cli import InputError, _assumptions
    from policylang.serve.app import create_app
    from policylang.serve.registry import Registry, RegistryError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        registry = Registry(paths or ["policies"], _assumptions(assume))
    except RegistryError as exc:
        raise InputError(str(exc)) from None
    for entry in registry.entries.values():
        logging.getLogger("policylang.serve").info("serving %s from %s (%s…)", entry.id, entry.path,
                                                   entry.identity.content_hash[:19])
    app = create_app(registry, max_body=max_body, reload=reload)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, server_header=False)
