"""In-memory implementations of the ports, type-checked against them (mypy runs on this folder)."""
