"""Local development stack: the tiny demo model and the `make run` launcher."""
