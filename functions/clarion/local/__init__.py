"""The embedded local mode: real handlers and the real ASL file on an in-process AWS emulator."""
