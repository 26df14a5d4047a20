"""``/dashboard``: the page, its assets (from the package: no CDN) and the sign-in options it reads.

The dashboard is a static client of the public APIs (``/api/v1/*``, ``/api/mcp/*``): it has no route of its own
that reads data. The page is served with a strict Content-Security-Policy (no inline script, no ``eval``; the
Keycloak origin is the only other place it may talk to, for the PKCE token exchange).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from switchboard.api_gateway.state import gateway_state

__all__ = ["DASHBOARD_PATH", "STATIC_DIR", "router", "static_files"]

DASHBOARD_PATH = "/dashboard"
STATIC_DIR = Path(__file__).parent / "static"
_PAGE_HEADERS = {
    "cache-control": "no-cache",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}

router = APIRouter()


def static_files() -> StaticFiles:
    """The assets, mounted at ``/dashboard/static``."""
    return StaticFiles(directory=STATIC_DIR)


@router.get(DASHBOARD_PATH, include_in_schema=False)
async def dashboard_root() -> RedirectResponse:
    return RedirectResponse(f"{DASHBOARD_PATH}/", status_code=308)


@router.get(f"{DASHBOARD_PATH}/", include_in_schema=False)
async def dashboard_page(request: Request) -> FileResponse:
    oidc = _oidc(request)
    keycloak_origin = _origin(oidc["issuer"]) if oidc else ""
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {keycloak_origin}; form-action 'self' {keycloak_origin}; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    return FileResponse(STATIC_DIR / "index.html", headers={**_PAGE_HEADERS, "content-security-policy": policy})


@router.get(f"{DASHBOARD_PATH}/config.json", include_in_schema=False)
async def dashboard_config(request: Request) -> dict[str, Any]:
    """How to sign in: always with an API key; with Keycloak (authorization code + PKCE) when it is configured."""
    return {"oidc": _oidc(request)}


def _oidc(request: Request) -> dict[str, str] | None:
    settings = gateway_state(request).settings
    if not (settings.keycloak_url and settings.keycloak_realm):
        return None
    issuer = f"{settings.keycloak_url.rstrip('/')}/realms/{settings.keycloak_realm}"
    endpoints = f"{issuer}/protocol/openid-connect"
    return {
        "issuer": issuer,
        "client_id": settings.dashboard_client_id,
        "authorization_endpoint": f"{endpoints}/auth",
        "token_endpoint": f"{endpoints}/token",
        "end_session_endpoint": f"{endpoints}/logout",
        "scope": "openid",
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
