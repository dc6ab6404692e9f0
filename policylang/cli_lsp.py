"""`policylang lsp`: the language server over stdio (policylang/lsp/). Editors start it; see docs/editors.md."""
from __future__ import annotations

import click


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the only transport; accepted for editors "
                                            "that pass it).")
def lsp_command(stdio):
    """Run the policylang language server over stdio."""
    try:
        from policylang.lsp.server import main
    except ImportError as exc:  # pygls is the optional `lsp` extra
        raise click.UsageError(f"the language server needs the lsp extra: pip install 'policylang[lsp]' ({exc})")
    main()
