"""Surface syntax: the grammar, the parser (the only lark user) and the AST."""
