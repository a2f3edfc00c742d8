"""The `clarion` command."""
