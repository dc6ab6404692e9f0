"""Back ends over the IR: the reference interpreter and the Python code generator."""
