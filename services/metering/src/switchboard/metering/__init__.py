"""Switchboard metering: turns usage facts into billing events (``python -m switchboard.metering``)."""
