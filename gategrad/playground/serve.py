"""`gategrad playground`: serve the built site on 127.0.0.1 with the standard library's http.server."""

from __future__ import annotations

import functools
import http.server
import webbrowser
from pathlib import Path

# A browser compiles wasm as it downloads only when it is served as application/wasm.
TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript", ".json": "application/json"}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files with the types the page needs, and keeps quiet about each request."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, format: str, *args: object) -> None:
        pass


def server(directory: str | Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the files in `directory` on 127.0.0.1:`port` (0: any free port); call serve_forever()."""
    handler = functools.partial(Handler, directory=str(directory))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def open_browser(url: str) -> bool:
    """Open `url` in the default browser; False when there is none to open."""
    return webbrowser.open(url)
