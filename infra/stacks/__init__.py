"""Stacks compose constructs; they define no resources themselves."""
