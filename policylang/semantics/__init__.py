"""Resolve names, check types and lower the surface AST to the IR."""
