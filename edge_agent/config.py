"""The agent's settings: a TOML file (``--config``), overridden by command-line flags.

Every setting has one name, used as the TOML key and (with ``-`` for ``_``) as the flag. Paths in
the file are relative to the file. A bad value stops the agent before it connects, with a message
naming the setting.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["AgentConfig", "ConfigError", "load_config"]

PROTOCOLS = {"3.1.1": "3.1.1", "311": "3.1.1", "mqttv311": "3.1.1", "5": "5", "5.0": "5", "mqttv5": "5"}
LOG_LEVELS = ("debug", "info", "warning", "error")
PATH_KEYS = ("bundle", "state_dir", "tls_ca", "tls_cert", "tls_key", "http_ca")


class ConfigError(ValueError):
    """A setting we cannot run with; the message names it."""


@dataclass
class AgentConfig:
    bundle: str | None = None
    broker: str = "mqtt://127.0.0.1:1883"
    device_id: str = ""
    tenant: str = ""
    protocol: str = "3.1.1"
    client_id: str | None = None
    keepalive: int = 30
    clean_session: bool = True
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_insecure: bool = False
    qos: int = 0
    batch_ms: float = 3.0
    batch_max: int = 1000
    batch_linger: bool = False
    status_interval: float = 5.0
    queue_max: int = 100_000
    inflight_max: int = 1000
    state_dir: str = "./.aiot-agent"
    token: str | None = None
    trust: list[str] = field(default_factory=list)
    http_ca: str | None = None
    max_bundle_mb: float = 128.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    drain_s: float = 5.0
    log_level: str = "info"
    # Sites bridged into one broker under a prefix ("site-7/"): telemetry is subscribed and
    # commands are published under it; the rule graph sees the topics without it.
    source_prefix: str = ""

    # derived from ``broker``
    @property
    def host(self) -> str:
        return urlsplit(self.broker).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.broker)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.broker).scheme == "mqtts" or bool(self.tls_ca or self.tls_cert)

    @property
    def topic_prefix(self) -> str:
        return f"aiot/{self.tenant}/devices/{self.device_id}"

    def redacted_broker(self) -> str:
        parts = urlsplit(self.broker)
        return f"{parts.scheme}://{parts.hostname}:{self.port}"


_TYPES = {f.name: f.type for f in fields(AgentConfig)}


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "list[str]":
            if isinstance(value, str):
                return [value]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return list(value)
            raise ValueError
        if value is not None and not isinstance(value, str):
            raise ValueError
        return value
    except (TypeError, ValueError):
        want = {"list[str]": "a string or a list of strings"}.get(kind, kind.split(" ")[0])
        raise ConfigError(f"{name}: expected {want}, got {value!r}") from None


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: {exc}") from None
    base = Path(path).resolve().parent
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in _TYPES:
            known = ", ".join(sorted(_TYPES))
            raise ConfigError(f"config {path}: unknown setting {key!r} (known: {known})")
        value = _coerce(name, value)
        if name in PATH_KEYS and value:
            value = str(base / value)
        if name == "trust":
            value = [str(base / v) for v in value]
        out[name] = value
    return out


def load_config(config_path: str | None, overrides: dict[str, Any]) -> AgentConfig:
    """Defaults, then the TOML file, then the flags that were given (not None), then checks."""
    values: dict[str, Any] = {}
    if config_path:
        values.update(_read_toml(config_path))
    for name, value in overrides.items():
        if value is None or name not in _TYPES:
            continue
        if name == "trust":
            if value:
                values["trust"] = [*values.get("trust", []), *value]
            continue
        values[name] = _coerce(name, value)
    config = AgentConfig(**values)
    # Secrets may come from the environment so that they stay out of files and `ps`.
    if config.token is None:
        config.token = os.environ.get("AIOT_DEVICE_TOKEN") or None
    if config.password is None:
        config.password = os.environ.get("AIOT_MQTT_PASSWORD") or None
    _check(config)
    return config


def _check(c: AgentConfig) -> None:
    import re

    word = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
    for name in ("device_id", "tenant"):
        value = getattr(c, name)
        if not value:
            raise ConfigError(f"{name} is required (--{name.replace('_', '-')} or {name} in the config file)")
        if not word.match(value):
            raise ConfigError(f"{name} {value!r}: use letters, digits and _ . : - (it is an MQTT topic level)")
    if c.source_prefix and (any(ch in c.source_prefix for ch in "+#\0") or not c.source_prefix.endswith("/")):
        raise ConfigError(f"source_prefix {c.source_prefix!r}: topic levels ending in '/', no wildcards")
    parts = urlsplit(c.broker)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ConfigError(f"broker {c.broker!r}: expected mqtt://host:port or mqtts://host:port")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"broker {c.broker!r}: the port is not a number from 1 to 65535") from None
    if parts.scheme in ("tcp", "ssl"):
        c.broker = c.broker.replace(parts.scheme + "://", "mqtt://" if parts.scheme == "tcp" else "mqtts://", 1)
    if parts.username and c.username is None:
        c.username = unquote(parts.username)
    if parts.password and c.password is None:
        c.password = unquote(parts.password)
    if c.protocol.lower() not in PROTOCOLS:
        raise ConfigError(f"protocol {c.protocol!r}: expected 3.1.1 or 5")
    c.protocol = PROTOCOLS[c.protocol.lower()]
    if c.qos not in (0, 1, 2):
        raise ConfigError(f"qos {c.qos}: expected 0, 1 or 2")
    if c.log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level {c.log_level!r}: expected one of {', '.join(LOG_LEVELS)}")
    bounds = {
        "batch_ms": (0, 10_000),
        "batch_max": (1, 100_000),
        "status_interval": (0.05, 86_400),
        "queue_max": (1, 100_000_000),
        "inflight_max": (1, 65_000),
        "keepalive": (5, 65_535),
        "max_bundle_mb": (0.001, 4096),
        "reconnect_min_s": (0.01, 3600),
        "reconnect_max_s": (0.01, 3600),
        "drain_s": (0, 3600),
    }
    for name, (lo, hi) in bounds.items():
        value = getattr(c, name)
        if not lo <= value <= hi:
            raise ConfigError(f"{name} {value}: expected a value from {lo} to {hi}")
    if c.reconnect_max_s < c.reconnect_min_s:
        raise ConfigError("reconnect_max_s is smaller than reconnect_min_s")
    if bool(c.tls_cert) != bool(c.tls_key):
        raise ConfigError("tls_cert and tls_key go together: give both or neither")
    if c.client_id is None:
        c.client_id = f"aiot-edge-{c.tenant}-{c.device_id}"
