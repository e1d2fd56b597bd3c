"""Configuration: a TOML file plus NOC_TUI_* environment variables.

Precedence, highest first: command-line flags (applied by the caller), environment
variables (NOC_TUI_CACHE, NOC_TUI_SOURCE__URL, ...), the TOML file, defaults.
Every model forbids unknown keys so a typo is an error, not a silently ignored setting.

These models are the one definition of each setting. The dashboard reads plain views of
them (:mod:`noc_tui.settings_view`, no pydantic) that take their fields as sent; what a
model answers beyond its fields is written in a ``settings_view.ModelMethods`` class
that the model inherits, so its view has it too. Adding a key is a change here alone.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources import InitSettingsSource

from noc_tui.keymap import check_keymap
from noc_tui.records.timefmt import TimeFormatError, parse_duration
from noc_tui.settings_view import (  # noqa: F401 (re-exported: the models' helpers)
    APP,
    CodeSpec,
    ConfigError,
    MetricMethods,
    SettingsMethods,
    config_dir,
    default_cache_path,
    default_config_path,
    expand_codes,
    methods_of,
)


def _check_codes(specs: list[CodeSpec]) -> list[CodeSpec]:
    try:
        codes = expand_codes(specs)
    except ValueError as exc:
        raise ValueError("codes are integers or ranges like '300-399' or '3xx'") from exc
    bad = sorted(c for c in codes if not 100 <= c <= 699)
    if bad:
        raise ValueError(f"SIP codes must be within 100-699, got {bad[0]}")
    return specs


def _check_duration(value: str) -> str:
    try:
        parse_duration(value)
    except TimeFormatError as exc:
        raise ValueError(str(exc)) from exc
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricSettings(_Section, MetricMethods):
    """Thresholds of the metric definitions (foundation issue, section 5)."""

    ner_codes: list[CodeSpec] = Field(default_factory=lambda: ["200-299", 480, 486, 600, 603])
    halt_codes: list[CodeSpec] = Field(default_factory=lambda: ["300-399", 404, 480, 486])
    sdc_max_s: int = Field(6, ge=0)
    fas_min_connected: int = Field(20, ge=1)
    fas_no_ring_ratio: float = Field(0.20, ge=0, le=1)
    fas_short_ratio: float = Field(0.15, ge=0, le=1)
    never_404_min_attempts: int = Field(100, ge=1)
    fas_never_404_others_ratio: float = Field(0.01, ge=0, le=1)
    fas_unallocated_min_numbers: int = Field(3, ge=1)
    fas_min_flags: int = Field(2, ge=1)

    _v_codes = field_validator("ner_codes", "halt_codes")(_check_codes)


class KamailioSettings(_Section):
    """A Kamailio running integrations/kamailio/kamailio.cfg (its README.md)."""

    # Where its accounting is read: "db" (acc, missed_calls and acc_cdrs tables at
    # db_url) or "mqueue" (acc_json events fetched over JSON-RPC, kept in `spool`);
    # "none": no carrier side (a Kamailio delivering inbound calls only).
    accounting: Literal["db", "mqueue", "none"] = "db"
    # As kamailio.cfg's ACC_DB_URL: "sqlite:////var/lib/kamailio/acc.db" (four slashes
    # for an absolute path; opened read-only) or "postgres://user:password@host/db".
    db_url: str | None = None
    # jsonrpcs over xhttp, e.g. "http://127.0.0.1:5071/RPC": dispatcher.list (carriers
    # and their live state) and, for accounting = "mqueue", the event queues.
    jsonrpc_url: str | None = None
    # kamailio.cfg's MQUEUE_SIZE: a queue found this full has dropped events.
    mqueue_size: int = Field(100_000, ge=1)
    # Events fetched from the mqueue wait here until their call is complete (default:
    # beside the cache, <cache>.kamailio-spool).
    spool: Path | None = None
    # An answered call with no CDR this long after its answer is taken without its
    # duration (as kamailio.cfg's dialog default_timeout, which ends such calls).
    max_call: str = "4h"
    # The inbound side (integrations/kamailio/inbound.cfg, a Kamailio of its own): the
    # database of its INBOUND_DB (the URL after "db=>"; its trunk groups, DIDs,
    # attempts and registration events) and its JSON-RPC URL (ul.dump). Unset: no
    # inbound records.
    inbound_db_url: str | None = None
    inbound_jsonrpc_url: str | None = None

    _v_dur = field_validator("max_call")(_check_duration)


# What the ConnexCS source reads from a CDR row for each attempt field (docs/sources/
# connexcs.md); the column names are those of ConnexCS's own tools.
CONNEXCS_CDR_COLUMNS: dict[str, str] = {
    "call_id": "callid", "seq": "branch_idx", "carrier_id": "provider_id",
    "started_at": "dt", "dst": "dest_number", "cli": "dest_cli", "sip_code": "sip_code",
    "sip_reason": "sip_reason", "pdd_ms": "pdd_out", "duration_s": "duration",
    "release_reason": "release_reason",
}
# Guesses (no public document names these fields): doctor shows what the account has.
CONNEXCS_CARRIER_FIELDS: dict[str, str] = {
    "id": "id", "name": "name", "status": "status", "channels": "channels", "cps": "cps",
    "currency": "currency",
}
CONNEXCS_CONTACT_FIELDS: dict[str, str] = {
    "carrier_id": "company_id", "name": "name", "role": "role", "email": "email",
    "phone": "phone", "notes": "notes",
}
CONNEXCS_RATE_FIELDS: dict[str, str] = {
    "prefix": "prefix", "destination": "name", "rate": "cost", "connect_fee": "connection",
    "mcd_s": "initial", "pulse_s": "interval", "effective_from": "effective",
    "status": "status",
}
CONNEXCS_QUERY = (
    "SELECT dt, callid, branch_idx, provider_id, dest_number, dest_cli, duration, pdd_out, "
    "sip_code, sip_reason, release_reason FROM cdr.cdr WHERE dt >= :since AND dt < :until "
    "ORDER BY dt, callid, branch_idx"
)


def _mapping(defaults: dict[str, str], kind: str) -> Callable[[Any], Any]:
    """A field mapping as written in the config, over its defaults: a key the record
    format does not know is an error; "" leaves that field out."""
    from noc_tui.records.formats import FIELDS

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic says what is wrong with it
        unknown = sorted(set(value) - set(FIELDS[kind]))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a field of {kind} "
                             f"({', '.join(FIELDS[kind])})")
        return {**defaults, **value}

    return check


class ConnexCSSettings(_Section):
    """A ConnexCS account (source.kind = "connexcs"): paths relative to source.url
    (default https://app.connexcs.com/api/cp/), the CDR query and the field mappings.
    docs/sources/connexcs.md says which are ConnexCS's documented ones and which guesses."""

    # "basic": source.username/password on every call; "jwt": they get a refresh token
    # (auth/jwt/refresh) that gets access tokens (auth/jwt); "token": source.token is a
    # long-lived access token made in the control panel. "auto": token if set, else basic.
    auth: Literal["auto", "basic", "jwt", "token"] = "auto"
    jwt_lifetime_s: int = Field(86400, ge=300, le=31_536_000)
    jwt_audience: str = ""
    account_path: str = "setup/account"
    spec_path: str = "api-spec/v3"
    jwt_refresh_path: str = "auth/jwt/refresh"
    jwt_access_path: str = "auth/jwt"
    # "" leaves a kind out of the poll (carriers, contacts or rates).
    carriers_path: str = "carrier"
    contacts_path: str = "contact"
    cards_path: str = "card"
    card_path: str = "card/{card_id}"
    card_rules_path: str = "card/{card_id}/rev/{rev}/rule"
    # The field of a rate card naming its carrier (provider).
    card_carrier_field: str = "provider_id"
    # "sql": setup/query/0/run with cdr_query; "structured": POST cdr_path with a
    # field list and a dt range, at most cdr_limit rows an answer.
    cdr_mode: Literal["sql", "structured"] = "sql"
    cdr_format: Literal["csv", "json"] = "csv"
    query_path: str = "setup/query/0/run"
    cdr_query: str = CONNEXCS_QUERY
    cdr_path: str = "cdr"
    cdr_limit: int = Field(5000, ge=1, le=100_000)
    # The CDR is read in windows this long, at most cdr_parallel at once (ConnexCS asks
    # for no more than 4 queries at a time).
    cdr_window: str = "1h"
    cdr_parallel: int = Field(4, ge=1, le=4)
    cdr_columns: dict[str, str] = Field(default_factory=lambda: dict(CONNEXCS_CDR_COLUMNS))
    # seq = branch_idx + seq_offset (branch_idx counts from 0).
    seq_offset: int = Field(1, ge=0, le=1)
    # A pdd_out of 0 is no 180/183 before the answer, not an instant one (a guess).
    pdd_zero_is_none: bool = True
    carrier_fields: dict[str, str] = Field(
        default_factory=lambda: dict(CONNEXCS_CARRIER_FIELDS))
    contact_fields: dict[str, str] = Field(
        default_factory=lambda: dict(CONNEXCS_CONTACT_FIELDS))
    rate_fields: dict[str, str] = Field(default_factory=lambda: dict(CONNEXCS_RATE_FIELDS))

    _v_cols = field_validator("cdr_columns", mode="before")(
        _mapping(CONNEXCS_CDR_COLUMNS, "attempts"))
    _v_carriers = field_validator("carrier_fields", mode="before")(
        _mapping(CONNEXCS_CARRIER_FIELDS, "carriers"))
    _v_contacts = field_validator("contact_fields", mode="before")(
        _mapping(CONNEXCS_CONTACT_FIELDS, "contacts"))
    _v_rates = field_validator("rate_fields", mode="before")(
        _mapping(CONNEXCS_RATE_FIELDS, "rates"))
    _v_window = field_validator("cdr_window")(_check_duration)

    @field_validator("cdr_query")
    @classmethod
    def _v_query(cls, value: str) -> str:
        # An unbounded CDR query fails on ConnexCS (500) and would read the whole table.
        missing = [p for p in (":since", ":until") if p not in value]
        if missing:
            raise ValueError(f"the query must bound dt by {' and '.join(missing)}")
        return value


class SourceSettings(_Section):
    """Where the poller reads records from: a switch speaking API v1 (kind "apiv1", at
    url), a Kamailio (kind "kamailio", [source.kamailio]) or a ConnexCS account (kind
    "connexcs", [source.connexcs])."""

    kind: Literal["apiv1", "kamailio", "connexcs"] = "apiv1"
    kamailio: KamailioSettings = Field(default_factory=KamailioSettings)
    connexcs: ConnexCSSettings = Field(default_factory=ConnexCSSettings)
    url: str | None = None
    token: SecretStr | None = None
    # A file holding the token: kept out of the config file and the process list.
    token_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_bundle: Path | None = None
    verify_tls: bool = True
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    # A request's whole life (connect, headers, body), however the bytes trickle in:
    # read_timeout_s bounds one wait for bytes, this bounds them all.
    request_deadline_s: float = Field(120.0, gt=0)
    retries: int = Field(5, ge=0, le=20)
    page_limit: int = Field(5000, ge=1, le=50000)
    # The largest page body taken, once decompressed; a bigger one is an error.
    max_page_mb: float = Field(64.0, gt=0, le=1024)

    @model_validator(mode="after")
    def _one_token(self) -> SourceSettings:
        if self.token is not None and self.token_file is not None:
            raise ValueError("set source.token or source.token_file, not both")
        return self


class CacheSettings(_Section):
    """The cache file and what it keeps (docs/metrics.md, "What the cache keeps")."""

    path: Path | None = None
    # Raw attempts are kept this long; the CLI accepts windows up to this long, and the
    # dashboard's longest window (7d) must fit in it.
    keep_attempts: str = "35d"

    @field_validator("keep_attempts")
    @classmethod
    def _v_keep(cls, value: str) -> str:
        _check_duration(value)
        if parse_duration(value) < 7 * 86400:
            raise ValueError("keep at least 7d: the dashboard's longest window is 7d")
        return value


class PollSettings(_Section):
    interval: str = "1h"
    overlap: str = "2h"
    backfill: str = "35d"
    # A poll still running after this ends as failed, releasing the lock: a switch that
    # trickles bytes or hands out cursors forever cannot hold the cache.
    deadline: str = "15m"
    # `noc-tui poll --follow`: from one poll's start to the next. 5s: a call is on the
    # list a few seconds after it ended, for a quiet poll's cost (docs/performance.md,
    # "poll --follow").
    follow_interval: str = "5s"

    _v_dur = field_validator("interval", "overlap", "backfill", "deadline",
                             "follow_interval")(_check_duration)


class AlarmSettings(_Section):
    """When an alarm is raised (once per crossing, judged over `window` at every poll or
    import, kept in the cache) and where it is sent besides the dashboard."""

    consecutive_failures: int = Field(50, ge=1)
    asr_floor: float = Field(0.20, ge=0, le=1)
    asr_min_attempts: int = Field(50, ge=1)
    halt_violations: int = Field(1, ge=1)
    fas_suspect: bool = True
    # A trunk group's: registered on no edge (its customer's PBX gets no call); lost
    # deliveries; the share of deliveries taken at the first try, once enough came in.
    trunk_unregistered: bool = True
    trunk_lost_deliveries: int = Field(5, ge=1)
    trunk_first_try_floor: float = Field(0.50, ge=0, le=1)
    trunk_first_try_min_offered: int = Field(20, ge=1)
    window: Literal["1h", "24h", "7d"] = "1h"
    # Run for every alarm raised (and cleared): an argument list, no shell; the alarm
    # as JSON on its standard input and in NOC_TUI_ALARM_* variables.
    command: list[str] | None = None
    # POST the alarm as JSON; the URL may hold a secret (Slack's do): it is never shown
    # or logged in full.
    webhook_url: SecretStr | None = None
    webhook_format: Literal["json", "slack", "pagerduty"] = "json"
    pagerduty_routing_key: SecretStr | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)
    retries: int = Field(3, ge=0, le=10)
    notify_cleared: bool = True

    @field_validator("command")
    @classmethod
    def _v_command(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("give the program and its arguments, like "
                             "[\"/usr/local/bin/page-oncall\", \"--team\", \"noc\"]")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _v_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = value.get_secret_value()
            if not url.startswith(("http://", "https://")) or len(url.split("/")) < 3 \
                    or not url.split("/")[2]:
                # The URL itself is not repeated: it may hold a secret.
                raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _v_pagerduty(self) -> AlarmSettings:
        if self.webhook_format == "pagerduty" and self.pagerduty_routing_key is None:
            raise ValueError("webhook_format 'pagerduty' needs pagerduty_routing_key (the "
                             "integration key of the PagerDuty service)")
        return self


class HealthSettings(_Section):
    """Row colours of the carrier and trunk-group lists: down, degraded, suspect, fine."""

    down_consecutive_failures: int = Field(100, ge=1)
    degraded_asr: float = Field(0.30, ge=0, le=1)
    degraded_min_attempts: int = Field(20, ge=1)
    degraded_consecutive_failures: int = Field(10, ge=1)
    # The trunk-group list: a first-try rate below this (over degraded_min_attempts
    # deliveries not abandoned) is degraded.
    degraded_first_try: float = Field(0.90, ge=0, le=1)


class UISettings(_Section):
    theme: str = "noc-dark"
    animations: bool = True
    export_dir: Path | None = None
    window: Literal["1h", "24h", "7d"] = "24h"


class Settings(BaseSettings, SettingsMethods):
    model_config = SettingsConfigDict(
        env_prefix="NOC_TUI_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    # `cache = "PATH"` (and NOC_TUI_CACHE=PATH) still name the file alone; NoDecode: the
    # environment's value is a path, not JSON.
    cache: Annotated[CacheSettings, NoDecode] = Field(default_factory=CacheSettings)
    source: SourceSettings = Field(default_factory=SourceSettings)
    poll: PollSettings = Field(default_factory=PollSettings)
    metrics: MetricSettings = Field(default_factory=MetricSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    ui: UISettings = Field(default_factory=UISettings)
    # binding id -> key(s), checked and named as Textual names keys (noc_tui.keymap)
    keys: dict[str, str] = Field(default_factory=dict)

    _v_keys = field_validator("keys")(check_keymap)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_source = InitSettingsSource(settings_cls, init_kwargs=_FILE_DATA.get({}))
        return (init_settings, env_settings, file_source)

    @field_validator("cache", mode="before")
    @classmethod
    def _cache_path_alone(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, (str, Path)) else value


# The TOML data being loaded; a context variable so loading stays re-entrant.
_FILE_DATA: ContextVar[dict[str, Any]] = ContextVar("_FILE_DATA")


def resolve_config_path(explicit: str | Path | None) -> tuple[Path, bool]:
    """Return (path, explicitly_chosen). An explicit path must exist."""
    if explicit:
        return Path(explicit).expanduser(), True
    env = os.environ.get("NOC_TUI_CONFIG")
    if env:
        return Path(env).expanduser(), True
    return default_config_path(), False


def _has_secret(data: dict[str, Any]) -> bool:
    src = data.get("source")
    alarms = data.get("alarms")
    if isinstance(alarms, dict) and (alarms.get("webhook_url")
                                     or alarms.get("pagerduty_routing_key")):
        return True
    if not isinstance(src, dict):
        return False
    kam = src.get("kamailio")
    db_url = kam.get("db_url") if isinstance(kam, dict) else None
    # A database URL may carry a password: postgres://user:password@host/db.
    with_password = isinstance(db_url, str) and "@" in db_url and ":" in db_url.split("@")[0][
        db_url.find("//") + 2:]
    return bool(src.get("token") or src.get("password") or with_password)


def load_settings(
    config: str | Path | None = None, warn: list[str] | None = None
) -> tuple[Settings, Path]:
    """Load settings; raise ConfigError with a message naming the file and the key."""
    path, explicit = resolve_config_path(config)
    data: dict[str, Any] = {}
    if path.exists() or explicit:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except PermissionError:
            raise ConfigError(f"{path}: config file is not readable (permission denied)") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: is a directory, not a config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        if warn is not None and _has_secret(data):
            _warn_if_others_read(path, "holds a secret", warn)
    token = _FILE_DATA.set(data)
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(_format_validation(path, exc)) from None
    finally:
        _FILE_DATA.reset(token)
    if warn is not None and settings.source.token_file is not None:
        _warn_if_others_read(settings.source.token_file.expanduser(),
                             "(source.token_file) holds the token", warn)
    return settings, path


def _warn_if_others_read(path: Path, what: str, warn: list[str]) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # a missing token file is reported when a poll reads it
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warn.append(f"{path} {what} and is readable by others: run chmod 600 {path}")


def _format_validation(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{path}: {key}: {msg}")
    return "bad configuration (file or NOC_TUI_* environment):\n  " + "\n  ".join(lines)


def to_plain(value: Any) -> Any:
    """Settings as JSON-ready data for ``settings_view.from_plain``, secrets included
    (it goes down a private pipe to the parent process, never to a file or a log).
    A type it does not know is refused (TypeError), never sent as something else."""
    if isinstance(value, BaseModel):
        fields = {name: to_plain(getattr(value, name)) for name in type(value).model_fields}
        return {"$model": type(value).__name__, "methods": methods_of(type(value)),
                "fields": fields}
    if isinstance(value, Path):
        return {"$path": str(value)}
    if isinstance(value, SecretStr):
        return {"$secret": value.get_secret_value()}
    if isinstance(value, dict):
        return {"$dict": {k: to_plain(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise TypeError(f"settings value of type {type(value).__name__} has no plain form")
