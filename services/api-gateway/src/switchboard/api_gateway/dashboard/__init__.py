"""The web dashboard: static pages under ``/dashboard`` that call only the gateway's public APIs."""
