"""The review page's web server: Flask, on 127.0.0.1 only, mapping requests to the session.

Everything the page sends is untrusted: bodies are JSON objects of bounded size, only
requests addressed to this server's own loopback host are answered (no DNS rebinding, no
other site's page posting to it), and every correction's arguments are checked by the
session. The page itself is static HTML, JS and CSS shipped in the package.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from builder.review.draft import CorrectionError
from builder.review.session import SaveConflict, SaveRefused, Session, open_session

HOST = "127.0.0.1"  # never anything else: the page edits files
MAX_BODY = 256 * 1024  # bytes of one request; an article's body is a few kilobytes
STATIC = Path(__file__).parent / "static"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(session: Session, hosts: set[str]) -> Flask:
    """The Flask app of one session, answering requests addressed to `hosts` (`host:port`).

    The set is read on every request, so a server can fill it in once its port is known.
    """
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.before_request
    def only_this_host() -> None:
        if request.host not in hosts:
            abort(403, "this server answers only on its own loopback address")
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin is not None and origin.removeprefix("http://") not in hosts:
            abort(403, "requests from other sites are refused")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[Response, int]:
        return jsonify(error=err.description), err.code or 500

    @app.errorhandler(CorrectionError)
    def correction_error(err: CorrectionError) -> tuple[Response, int]:
        return jsonify(error=str(err), state=session.view()), 400

    @app.get("/")
    def index() -> Response:
        return send_from_directory(STATIC, "index.html")

    @app.get("/favicon.ico")
    def favicon() -> tuple[str, int]:
        return "", 204

    @app.get("/static/<name>")
    def static_file(name: str) -> Response:
        return send_from_directory(STATIC, name)

    @app.get("/api/state")
    def state() -> Response:
        return jsonify(session.view())

    @app.post("/api/correct")
    def correct() -> Response:
        body = json_body()
        name = body.get("op")
        if not isinstance(name, str):
            raise CorrectionError("'op' must name a correction")
        session.apply(name, body)
        return jsonify(session.view())

    @app.post("/api/undo")
    def undo() -> Response:
        json_body()
        session.undo()
        return jsonify(session.view())

    @app.post("/api/reload")
    def reload() -> Response:
        json_body()
        session.reload()
        return jsonify(session.view())

    @app.post("/api/save")
    def save() -> tuple[Response, int]:
        as_draft = json_body().get("draft") is True
        try:
            result = session.save(as_draft=as_draft)
        except SaveRefused as err:
            return jsonify(error=str(err), state=session.view()), 422
        except SaveConflict as err:
            return jsonify(error=str(err), conflict=[str(p) for p in err.paths], state=session.view()), 409
        except ValueError as err:  # a path outside the articles folder: never written
            return jsonify(error=str(err), state=session.view()), 400
        return jsonify(message=result.message(), state=session.view()), 200

    return app


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 for anything else (and 413 past MAX_BODY)."""
    if not request.is_json:
        abort(415, "send JSON (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "the request body must be a JSON object")
    return data


class QuietHandler(WSGIRequestHandler):
    """No log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ReviewServer:
    """The server, bound to 127.0.0.1: `url`; `start()` in a thread and `stop()`, or `serve()`."""

    def __init__(self, session: Session, port: int = 0) -> None:
        hosts: set[str] = set()
        self.app = create_app(session, hosts)
        # Bound here rather than by werkzeug, which exits the process when the port is taken.
        with socket.create_server((HOST, port)) as listener:  # OSError when the port is taken
            self.port = listener.getsockname()[1]
            self.server: BaseWSGIServer = make_server(
                HOST, self.port, self.app, threaded=True, request_handler=QuietHandler, fd=listener.fileno()
            )
        hosts.update({f"{HOST}:{self.port}", f"localhost:{self.port}"})
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> ReviewServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def serve(self) -> None:
        """Serve in this thread until Ctrl+C."""
        try:
            self.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.server.server_close()


def run(
    page: str | Path,
    articles: str | Path,
    port: int = 0,
    open_browser: bool = True,
    echo: Callable[[str], None] = print,
) -> None:
    """`newsset review`: open the page's review and serve it until interrupted.

    Raises MetadataError or ExtractError for a page that cannot be read, OSError when the
    port cannot be had.
    """
    session = open_session(page, articles)
    server = ReviewServer(session, port)
    echo(f"Reviewing {page} against {articles}/ at {server.url}  (Ctrl+C stops)")
    for notice in session.notices:
        echo(f"  {notice}")
    if open_browser:
        webbrowser.open(server.url)
    server.serve()
    echo("Review stopped.")
