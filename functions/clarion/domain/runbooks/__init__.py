"""Runbooks: the validated model of a runbook set and the message-quality lint run over it."""
