"""`policylang lsp`: a language server over stdio, built on the same front end as every command.

`text` (positions, UTF-16 units, identifiers as the grammar reads them), `index` (where each name is
defined and read, across `extends` / `conforms to` files), `analysis` (one document: diagnostics, AST,
IR, index), the features (`hover`, `completion`, `symbols`, `lenses`) and `server` (pygls wiring).
"""
