"""Approvals: signed links, the decision rules of the approval desk, and its page."""
