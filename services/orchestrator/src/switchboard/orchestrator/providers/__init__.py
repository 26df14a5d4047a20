"""Providers: where requests are served (the native Anthropic API, the offline demo model)."""
