"""The audit log: one row per API call (who, which key, what, outcome, how long), written off the request path."""
