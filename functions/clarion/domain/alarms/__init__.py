"""Alarms: parsing CloudWatch's two event shapes and deciding what each state change does to incidents."""
