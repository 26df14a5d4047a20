"""Translators between the client's wire format (Anthropic Messages) and provider formats, one package per pair."""
