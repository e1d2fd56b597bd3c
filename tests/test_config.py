"""Configuration: file, environment, and clear errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from noc_tui.cli import main
from noc_tui.config import ConfigError, load_settings

pytestmark = pytest.mark.usefixtures("isolated_config")


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings, path = load_settings()
    assert path == tmp_path / "xdg-config" / "noc-tui" / "config.toml"
    assert settings.poll.interval == "1h"
    assert settings.cache_path() == tmp_path / "xdg-cache" / "noc-tui" / "cache.db"
    assert 486 in settings.metrics.halt_set() and 302 in settings.metrics.halt_set()


def test_file_then_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[source]\nurl = "http://127.0.0.1:1"\n[poll]\ninterval = "15m"\n')
    monkeypatch.setenv("NOC_TUI_POLL__INTERVAL", "5m")
    monkeypatch.setenv("NOC_TUI_CACHE", str(tmp_path / "x.db"))
    settings, _ = load_settings(cfg)
    assert settings.source.url == "http://127.0.0.1:1"
    assert settings.poll.interval == "5m"
    assert settings.cache_path() == tmp_path / "x.db"


def test_noc_tui_config_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "env.toml"
    cfg.write_text("[ui]\nanimations = false\n")
    monkeypatch.setenv("NOC_TUI_CONFIG", str(cfg))
    settings, path = load_settings()
    assert path == cfg and settings.ui.animations is False


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[source]\nurll = "x"\n', "source.urll: unknown key"),
        ("[metrics]\nfas_min_connected = \"many\"\n", "metrics.fas_min_connected"),
        ('[poll]\ninterval = "soon"\n', "poll.interval"),
        ("[metrics]\nner_codes = [200, 999]\n", "metrics.ner_codes"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert str(cfg) in str(info.value)
    assert expected in str(info.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_cli_bad_config_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[source]\ntoken = "s3cr3t-token"\nurll = 1\n')
    cfg.chmod(0o600)
    rc = main(["--config", str(cfg), "export", "carriers"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "source.urll: unknown key" in err and str(cfg) in err
    assert "Traceback" not in err
    assert "s3cr3t-token" not in err


def test_secret_in_world_readable_file_warns(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[source]\nurl = "http://127.0.0.1:9"\ntoken = "s3cr3t-token"\n')
    cfg.chmod(0o644)
    warnings: list[str] = []
    settings, _ = load_settings(cfg, warn=warnings)
    assert len(warnings) == 1 and "chmod 600" in warnings[0]
    assert "s3cr3t-token" not in warnings[0]
    assert "s3cr3t-token" not in repr(settings)
    assert settings.source.token is not None
    assert settings.source.token.get_secret_value() == "s3cr3t-token"
    cfg.chmod(0o600)
    warnings.clear()
    load_settings(cfg, warn=warnings)
    assert warnings == []


def test_example_config_is_valid_and_complete() -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    settings, _ = load_settings(example)
    text = example.read_text()
    # Every section and key of the settings is documented in the example.
    for section, model in settings:
        if section == "keys":
            assert section in text
            continue
        for key in type(model).model_fields:
            sub = getattr(model, key)
            if isinstance(sub, BaseModel):  # a sub-section, e.g. [source.kamailio]
                assert f"[{section}.{key}]" in text, f"[{section}.{key}] undocumented"
                for subkey in type(sub).model_fields:
                    assert f"# {subkey} =" in text, f"{section}.{key}.{subkey} undocumented"
                continue
            assert f"{key} =" in text or f"# {key} =" in text, f"{section}.{key} undocumented"
