"""API keys: minted once, stored only as a hash, verified on every request."""
