"""The review server over HTTP: requests mapped to the session, untrusted input refused, loopback only."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("flask", reason="the review extra (Flask) is not installed")

from builder.review import open_session
from builder.review.server import MAX_BODY, ReviewServer, create_app
from tests.conftest import RAW_PAGE, REPO, run

HOST = "127.0.0.1:5000"


@pytest.fixture
def page(tmp_path: Path) -> Path:
    target = tmp_path / "p01.txt"
    shutil.copyfile(RAW_PAGE, target)
    shutil.copyfile(RAW_PAGE.with_suffix(".json"), target.with_suffix(".json"))
    return target


@pytest.fixture
def client(page: Path, tmp_path: Path):
    app = create_app(open_session(page, tmp_path / "articles"), {HOST})
    return app.test_client()


def post(client, path: str, body: object, **kwargs):
    return client.post(path, json=body, base_url=f"http://{HOST}", **kwargs)


def test_state_and_corrections(client) -> None:
    state = client.get("/api/state", base_url=f"http://{HOST}").get_json()
    assert [a["id"][-2:] for a in state["articles"]] == ["01", "02", "03", "04", "05", "06"]
    assert state["lines"][75] == {
        "n": 76,
        "text": " ■记者 冯思家",
        "kind": "byline",
        "article": None,
        "role": "unattributed byline",
        "reason": "",
    }
    after = post(client, "/api/correct", {"op": "assign_byline", "line": 76, "article": 3}).get_json()
    assert after["articles"][2]["record"]["byline"] == "记者 冯思家"
    assert after["lines"][75]["article"] == 3 and after["can_undo"]
    undone = post(client, "/api/undo", {}).get_json()
    assert "byline" not in undone["articles"][2]["record"]


def test_errors_are_answered_with_a_message_and_the_state(client) -> None:
    bad = post(client, "/api/correct", {"op": "split", "article": 2, "line": 81})
    assert bad.status_code == 400
    assert "first line of the body" in bad.get_json()["error"]
    assert len(bad.get_json()["state"]["articles"]) == 6
    post(client, "/api/correct", {"op": "edit", "article": 1, "field": "headline", "value": ""})
    refused = post(client, "/api/save", {})
    assert refused.status_code == 422 and "1 error remain" in refused.get_json()["error"]
    saved = post(client, "/api/save", {"draft": True})
    assert saved.status_code == 200 and saved.get_json()["message"].startswith("wrote 6 files")


def test_untrusted_requests_are_refused(client) -> None:
    assert client.get("/api/state", base_url="http://evil.example:5000").status_code == 403
    foreign = post(
        client,
        "/api/correct",
        {"op": "merge", "article": 1, "other": 2},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    plain = client.post(
        "/api/correct", data='{"op": "merge"}', content_type="text/plain", base_url=f"http://{HOST}"
    )
    assert plain.status_code == 415
    not_object = post(client, "/api/correct", [1, 2])
    assert not_object.status_code == 400 and "JSON object" in not_object.get_json()["error"]
    broken = client.post("/api/correct", data="{", content_type="application/json", base_url=f"http://{HOST}")
    assert broken.status_code == 400
    huge = post(
        client, "/api/correct", {"op": "edit", "article": 1, "field": "body", "value": "字" * MAX_BODY}
    )
    assert huge.status_code == 413
    assert len(client.get("/api/state", base_url=f"http://{HOST}").get_json()["articles"]) == 6


def test_the_page_is_served_with_a_strict_policy(client) -> None:
    index = client.get("/", base_url=f"http://{HOST}")
    assert index.status_code == 200 and b'src="/static/review.js"' in index.data
    assert index.headers["Content-Security-Policy"].startswith("default-src 'self'")
    for name in ("review.js", "review.css"):
        assert client.get(f"/static/{name}", base_url=f"http://{HOST}").status_code == 200
    assert client.get("/static/..%2fserver.py", base_url=f"http://{HOST}").status_code == 404
    # Nothing is fetched from the network: the page names no other host.
    for name in ("index.html", "review.js", "review.css"):
        text = (REPO / "builder/review/static" / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, name


def test_the_server_listens_on_loopback_only(page: Path, tmp_path: Path) -> None:
    server = ReviewServer(open_session(page, tmp_path / "articles")).start()
    try:
        assert server.server.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(server.url + "api/state") as response:
            assert len(json.load(response)["articles"]) == 6
    finally:
        server.stop()


def test_newsset_review_serves_until_interrupted(page: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "builder",
            "review",
            str(page),
            "--articles",
            str(tmp_path / "a"),
            "--no-browser",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"Reviewing {page} against {tmp_path / 'a'}/ at http://127.0.0.1:")
        url = first.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "api/state") as response:
            assert json.load(response)["page"] == str(page)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "Review stopped."


def test_newsset_review_usage_errors(tmp_path: Path) -> None:
    missing = run("review", tmp_path / "nope.txt", "--no-browser")
    assert missing.exit_code == 2 and "no publication name" in missing.stderr
    page = tmp_path / "raw" / "p01.txt"
    page.parent.mkdir()
    page.write_bytes("本报讯".encode("gb18030"))
    page.with_suffix(".json").write_text(RAW_PAGE.with_suffix(".json").read_text(encoding="utf-8"))
    unreadable = run("review", page, "--no-browser")
    assert unreadable.exit_code == 1 and f"{page}:1:1: cannot read the page" in unreadable.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = run("review", RAW_PAGE, "--no-browser", "--port", taken.getsockname()[1])
    assert busy.exit_code == 2 and "cannot serve on 127.0.0.1:" in busy.stderr
    help_text = run("review", "--help").output
    assert "Example:" in help_text and "--no-browser" in help_text
