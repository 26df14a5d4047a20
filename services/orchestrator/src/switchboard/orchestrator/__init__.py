"""Switchboard orchestrator: takes ``ExecuteRequest``s off the bus, routes them to a provider, streams the answer
back as ``StreamFrame``s and records a ``CompletionRecorded`` fact for every request."""
