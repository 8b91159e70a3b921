"""`adplan serve` refuses bad settings and busy ports with exit 2 and the setting named."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ADPLAN_DATABASE_URL": "bogus://x"}, "ADPLAN_DATABASE_URL"),
        ({"ADPLAN_DATA_DIR": "/proc/adplan-cannot-write-here"}, "ADPLAN_DATA_DIR"),
    ],
)
def test_bad_settings_exit_2_naming_the_setting(env, expected, tmp_path, monkeypatch):
    monkeypatch.delenv("ADPLAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("ADPLAN_DATA_DIR", str(tmp_path))
    r = CliRunner().invoke(app, ["serve", "--port", "0"], env={"ADPLAN_API_KEYS": "k", **env})
    assert r.exit_code == 2, r.output
    assert expected in r.output


def test_a_busy_port_exits_2_naming_it(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = CliRunner().invoke(
            app,
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            env={"ADPLAN_API_KEYS": "k", "ADPLAN_DATA_DIR": str(tmp_path)},
        )
    assert r.exit_code == 2, r.output
    assert f"127.0.0.1:{port}" in r.output and "--port" in r.output
