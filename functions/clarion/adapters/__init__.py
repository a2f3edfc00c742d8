"""boto3 implementations of the ports in ``clarion.ports``; each takes an injected client."""
