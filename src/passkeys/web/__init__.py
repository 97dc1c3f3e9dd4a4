"""The enrolment page's static files (index.html, style.css, and app.js bundled from web/ by
`make web`), served by Envoy at `/` on the REST and grpc-web address: same origin, no CORS."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# Package data (pyproject's package-data): found the same way from a checkout or a wheel.
DIRECTORY = Path(str(resources.files(__name__)))

# URL path -> (file in DIRECTORY, content type).
FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    # Where PASSKEYS_LINK_URL_TEMPLATE's registration links point by default.
    "/passkey/register": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    # The page links the SVG; browsers that ask for /favicon.ico anyway get the same icon.
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),
}

# Only our own scripts, styles and calls; no framing (the page creates credentials).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # A new bundle takes effect on the next load, without stale copies.
    "cache-control": "no-cache",
}


def largest_file_bytes() -> int:
    return max((DIRECTORY / name).stat().st_size for name, _ in FILES.values())
