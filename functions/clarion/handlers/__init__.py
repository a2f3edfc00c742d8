"""Lambda entry points: Powertools decorators, parse, call one domain function, map errors."""
