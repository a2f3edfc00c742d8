"""Pure domain: models, runbook schema, routing, intake rules, message rendering and lint.

Nothing in this package touches boto3, the network, the clock or ``os.environ``: whatever it needs
from the outside world arrives as an argument (see ``clarion.ports``).
"""
