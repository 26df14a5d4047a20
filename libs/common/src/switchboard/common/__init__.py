"""Contracts shared by every Switchboard service: wire models, bus events, subjects, errors, settings.

Nothing in this package performs I/O.
"""
