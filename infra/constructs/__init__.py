"""One capability per file."""
