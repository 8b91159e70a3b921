"""Fixtures for the service tests: a real app on a real SQLite file in tmp_path."""

from __future__ import annotations

import copy
import socket

import pytest


def pytest_configure(config):
    # starlette's TestClient warns that it prefers httpx2; the tests use what is installed
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with")


KEY = "test-key-0123456789"
HEADERS = {"X-API-Key": KEY}

CURVES = {
    "currency": "EUR",
    "result_type": "purchases",
    "lines": [
        {
            "network": "meta",
            "segment": "f-25-34",
            "period": "2027-01",
            "points": [[0, 0], [1000, 50], [3000, 120], [6000, 180]],
        },
        {
            "network": "tiktok",
            "segment": "f-25-34",
            "period": "2027-01",
            "points": [[0, 0], [2000, 90], [5000, 150]],
        },
        {
            "network": "meta",
            "segment": '=HYPERLINK("http://x")',
            "period": "2027-01",
            "points": [[0, 0], [2000, 60], [5000, 100]],
        },
    ],
}
SPEC = {"budget": 6000, "networks": {"meta": {"min_share": 0.2}}}


@pytest.fixture
def curves() -> dict:
    return copy.deepcopy(CURVES)


@pytest.fixture
def spec() -> dict:
    return copy.deepcopy(SPEC)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'adplan.db'}"


@pytest.fixture
def settings(db_url, tmp_path):
    from service import Settings

    return Settings(api_keys=[KEY, "second-key"], database_url=db_url, data_dir=tmp_path)


@pytest.fixture
def app(settings):
    from service import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def posted(client, curves, spec) -> dict:
    """A plan created through the API (its JSON, with id and links)."""
    r = client.post("/v1/plans", headers=HEADERS, json={"curves": curves, "spec": spec})
    assert r.status_code == 201, r.text
    return r.json()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """A real uvicorn server for ``app`` on a free 127.0.0.1 port, in a background thread."""

    def __init__(self, app) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
