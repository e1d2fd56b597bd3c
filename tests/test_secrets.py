"""Secrets never reach messages or the cache; a token can be kept out of the command line
and the config file."""

from __future__ import annotations

import base64
import sqlite3
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from noc_tui.cli import main
from noc_tui.config import Settings, SourceSettings
from noc_tui.sources.apiv1 import SourceClient
from noc_tui.sources.base import SERVER_ERROR, UNAUTHORISED, SourceError
from noc_tui.sync.poller import Poller
from tests.hostile import echoing_credentials, empty_page, send, serving

PASSWORD = "hunter22-pw"
TOKEN = "tok-3c7e9f"


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _all_text(db: Path) -> bytes:
    """Every byte of the cache: the file, its WAL and its journal."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


@pytest.mark.parametrize("status", [500, 401, 404])
def test_an_echoed_basic_auth_header_is_redacted(status: int) -> None:
    with serving(echoing_credentials(status)) as url:
        settings = SourceSettings(url=url, username="noc", password=PASSWORD,  # type: ignore[arg-type]
                                  retries=0)
        with SourceClient(settings) as client, pytest.raises(SourceError) as info:
            list(client.carriers())
    text = str(info.value)
    assert "header was Basic ***" in text
    assert PASSWORD not in text and _basic("noc", PASSWORD) not in text


def test_credentials_in_the_url_are_redacted_when_echoed() -> None:
    with serving(echoing_credentials()) as url:
        url = url.replace("http://", f"http://ops:{PASSWORD}@")
        with SourceClient(SourceSettings(url=url, retries=0)) as client, \
                pytest.raises(SourceError) as info:
            list(client.carriers())
    assert info.value.kind == SERVER_ERROR and "Basic ***" in str(info.value)
    assert PASSWORD not in str(info.value) and _basic("ops", PASSWORD) not in str(info.value)


@pytest.mark.parametrize("auth", ["basic", "bearer"])
def test_a_poll_stores_no_echoed_secret_in_the_cache(tmp_path: Path, auth: str) -> None:
    db = tmp_path / "c.db"
    creds = ({"username": "noc", "password": PASSWORD} if auth == "basic"
             else {"token": TOKEN})
    with serving(echoing_credentials()) as url:
        settings = Settings(source=SourceSettings(url=url, retries=0, **creds))  # type: ignore[arg-type]
        result = Poller(settings, db).poll_once()
    assert not result.ok and result.error is not None and "***" in result.error
    with sqlite3.connect(db) as conn:
        (error,) = conn.execute("SELECT error FROM poll_runs").fetchone()
    assert "***" in error
    stored = _all_text(db)
    for secret in (PASSWORD, _basic("noc", PASSWORD), TOKEN):
        assert secret.encode() not in stored and secret not in error


def _needs_token(h: BaseHTTPRequestHandler) -> None:
    if h.headers.get("Authorization") != f"Bearer {TOKEN}":
        send(h, 401, b'{"error": "unauthorised"}', {"WWW-Authenticate": "Bearer"})
    else:
        empty_page(h)


def _token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


def test_token_from_a_file_on_the_command_line(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    with serving(_needs_token) as url:
        rc = main(["--cache", str(tmp_path / "c.db"), "poll", "--url", url,
                   "--token-file", str(_token_file(tmp_path))])
    err = capsys.readouterr().err
    assert rc == 0 and "ok:" in err and "warning" not in err


@pytest.mark.parametrize("how", ["config", "environment"])
def test_token_file_from_the_config_or_the_environment(
        tmp_path: Path, isolated_config: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], how: str) -> None:
    token_file = _token_file(tmp_path)
    cfg = tmp_path / "c.toml"
    with serving(_needs_token) as url:
        if how == "config":
            cfg.write_text(f'[source]\nurl = "{url}"\ntoken_file = "{token_file}"\n')
        else:
            cfg.write_text(f'[source]\nurl = "{url}"\n')
            monkeypatch.setenv("NOC_TUI_SOURCE__TOKEN_FILE", str(token_file))
        rc = main(["--config", str(cfg), "--cache", str(tmp_path / "c.db"), "poll"])
    err = capsys.readouterr().err
    assert rc == 0 and "ok:" in err and TOKEN not in err


def test_a_token_file_others_can_read_warns(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = _token_file(tmp_path)
    token_file.chmod(0o644)
    cfg = tmp_path / "c.toml"
    with serving(_needs_token) as url:
        cfg.write_text(f'[source]\nurl = "{url}"\ntoken_file = "{token_file}"\n')
        rc = main(["--config", str(cfg), "--cache", str(tmp_path / "c.db"), "poll"])
    err = capsys.readouterr().err
    assert rc == 0 and f"chmod 600 {token_file}" in err and TOKEN not in err


def test_an_unreadable_token_file_is_one_clear_line(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-token"
    rc = main(["--cache", str(tmp_path / "c.db"), "poll", "--url", "http://127.0.0.1:9",
               "--token-file", str(missing)])
    err = capsys.readouterr().err
    assert rc == 2 and f"--token-file {missing}: cannot read the token" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[source]\nurl = "http://127.0.0.1:9"\ntoken_file = "{missing}"\n')
    rc = main(["--config", str(cfg), "--cache", str(tmp_path / "c.db"), "poll"])
    err = capsys.readouterr().err
    assert rc == 2 and f"source.token_file {missing}: cannot read the token" in err
    assert "Traceback" not in err


def test_token_and_token_file_together_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"source\.token or source\.token_file, not both"):
        SourceSettings(token="x", token_file=tmp_path / "t")  # type: ignore[arg-type]


def test_token_on_the_command_line_works_and_warns(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    with serving(_needs_token) as url:
        rc = main(["--cache", str(tmp_path / "c.db"), "poll", "--url", url, "--token", TOKEN])
    err = capsys.readouterr().err
    assert rc == 0 and "ok:" in err
    assert "warning: --token is visible to other users" in err and "--token-file" in err
    assert TOKEN not in err


def test_a_wrong_token_is_not_echoed(tmp_path: Path, isolated_config: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with serving(echoing_credentials(401)) as url:
        settings = SourceSettings(url=url, token="wrong-" + TOKEN)  # type: ignore[arg-type]
        with SourceClient(settings) as client, pytest.raises(SourceError) as info:
            list(client.carriers())
    assert info.value.kind == UNAUTHORISED and TOKEN not in str(info.value)
