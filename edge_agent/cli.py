"""``aiot edge replay`` and ``aiot edge run`` (the agent)."""

from __future__ import annotations

import argparse

from edge_compiler.bundle import BundleError, read_bundle_file
from edge_compiler.runtime import LogicEngine
from rules_engine.cli import CliError, replay


def _replay(args: argparse.Namespace) -> int:
    try:
        bundle = read_bundle_file(args.bundle, args.pubkey)
    except BundleError as exc:
        raise CliError(str(exc)) from None
    return replay(LogicEngine(bundle.plan(), bundle.logic), args.trace)


def _run(args: argparse.Namespace) -> int:
    # Imported here: `aiot edge replay` must not need paho-mqtt.
    from .agent import Agent
    from .config import ConfigError, load_config
    from .logs import Log

    overrides = {k: v for k, v in vars(args).items() if k not in ("config", "run", "command", "edge_command")}
    try:
        config = load_config(args.config, overrides)
        agent = Agent(config, Log(config.log_level))
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    return agent.run()


def _add_run(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "run",
        help="the edge agent: run a bundle on MQTT telemetry, publish actions and status",
        description="Run a bundle on live MQTT telemetry. Settings come from --config (TOML) and these "
        "flags, which win. See docs/edge-agent.md.",
    )
    r.add_argument("--config", metavar="AGENT.toml", help="settings file (TOML); flags override it")
    r.add_argument("--bundle", metavar="B.aiotb", help="the bundle to run (a deployed one in --state-dir wins)")
    r.add_argument(
        "--broker", metavar="URL", help="mqtt://host:port or mqtts://host:port (default mqtt://127.0.0.1:1883)"
    )
    r.add_argument("--device-id", metavar="D")
    r.add_argument("--tenant", metavar="T")
    r.add_argument("--protocol", choices=["3.1.1", "5"], help="MQTT version (default 3.1.1)")
    r.add_argument("--client-id", metavar="ID", help="default aiot-edge-TENANT-DEVICE")
    r.add_argument("--keepalive", type=int, metavar="S")
    r.add_argument("--qos", type=int, choices=[0, 1, 2], help="QoS of the telemetry subscriptions (default 0)")
    r.add_argument(
        "--batch-ms", type=float, metavar="MS", help="an event waits at most this long for its batch (default 3)"
    )
    r.add_argument("--batch-max", type=int, metavar="N", help="at most N events per evaluation (default 1000)")
    r.add_argument(
        "--batch-linger",
        action="store_const",
        const=True,
        help="always wait the full --batch-ms for more events (fewer, larger evaluations; more latency)",
    )
    r.add_argument("--status-interval", type=float, metavar="S", help="seconds between status messages (default 5)")
    r.add_argument("--queue-max", type=int, metavar="N", help="actions kept while the broker is away (default 100000)")
    r.add_argument("--inflight-max", type=int, metavar="N", help="QoS 1 messages unacknowledged at once (default 1000)")
    r.add_argument("--state-dir", metavar="DIR", help="where deployed bundles are kept (default ./.aiot-agent)")
    r.add_argument("--token", metavar="TOKEN", help="device token for bundle downloads (or $AIOT_DEVICE_TOKEN)")
    r.add_argument("--trust", action="append", metavar="K.pub", help="accept bundles signed by this key (repeatable)")
    r.add_argument(
        "--username", metavar="USER", help="MQTT user name (the password: config file or $AIOT_MQTT_PASSWORD)"
    )
    r.add_argument("--tls-ca", metavar="CA.pem")
    r.add_argument("--tls-cert", metavar="CERT.pem")
    r.add_argument("--tls-key", metavar="KEY.pem")
    r.add_argument("--tls-insecure", action="store_const", const=True, help="do not check the broker's host name")
    r.add_argument("--http-ca", metavar="CA.pem", help="CA for https bundle downloads (default: the system's)")
    r.add_argument("--max-bundle-mb", type=float, metavar="MB", help="download size limit (default 128)")
    r.add_argument("--reconnect-min-s", type=float, metavar="S", help="first reconnect delay (default 0.5)")
    r.add_argument("--reconnect-max-s", type=float, metavar="S", help="longest reconnect delay (default 30)")
    r.add_argument(
        "--drain-s", type=float, metavar="S", help="on SIGTERM, wait this long for queued actions (default 5)"
    )
    r.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    r.add_argument(
        "--source-prefix",
        metavar="PREFIX/",
        help="telemetry and commands live under this topic prefix (sites bridged into one broker)",
    )
    r.set_defaults(run=_run)


def register(commands: argparse._SubParsersAction) -> None:
    edge = commands.add_parser("edge", help="the edge runtime")
    sub = edge.add_subparsers(dest="edge_command", metavar="SUBCOMMAND", required=True)
    r = sub.add_parser("replay", help="run a trace through a bundle's compiled logic; print the action records")
    r.add_argument("bundle", metavar="B.aiotb")
    r.add_argument("--trace", required=True, metavar="T.jsonl")
    r.add_argument("--pubkey", metavar="K.pub", help="require this signer (PEM public key)")
    r.set_defaults(run=_replay)
    _add_run(sub)
