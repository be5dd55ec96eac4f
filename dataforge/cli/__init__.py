"""The `dataforge` command line: thin Click commands over library calls."""
