"""The ``switchboard`` command: run the whole stack locally, mint API keys, generate the docs, tap the bus."""
