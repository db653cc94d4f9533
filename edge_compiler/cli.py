"""``aiot bundle build|verify|inspect`` and ``aiot keys generate``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rules_engine.cli import CliError, load_graph_args, print_problems
from rules_engine.problems import GraphInvalid

from .build import build_bundle
from .bundle import BundleError
from .bundle import read_bundle_file as bundle_file
from .compiler import CompileError
from .signing import KeyError_, generate_keypair, load_or_create_default_key, load_private_key, load_public_key


def read_bundle_file(path: str, pubkey: str | None = None):
    """A verified bundle from a file (the CLI's one way in); CliError says why not."""
    try:
        return bundle_file(path, pubkey)
    except BundleError as exc:
        raise CliError(str(exc)) from None


def _build(args: argparse.Namespace) -> int:
    doc, params, base = load_graph_args(args)
    try:
        if args.key:
            key = load_private_key(Path(args.key))
        else:
            key, path, created = load_or_create_default_key()
            if created:
                print(f"created a signing key at {path} (public key beside it)", file=sys.stderr)
    except KeyError_ as exc:
        raise CliError(str(exc)) from None
    blueprint = {"slug": args.slug, "version": args.version} if args.slug else None
    try:
        built = build_bundle(doc, params, key, base_dir=base, blueprint=blueprint)
    except GraphInvalid as exc:
        print_problems(exc.problems, args.graph)
        return 1
    except (CompileError, LookupError, ValueError) as exc:
        raise CliError(f"{args.graph}: {exc}") from None
    try:
        Path(args.output).write_bytes(built.data)
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror}") from None
    print(built.bundle_id)
    return 0


def _verify(args: argparse.Namespace) -> int:
    bundle = read_bundle_file(args.bundle, args.pubkey)
    signer = bundle.manifest["signer"]["key_id"]
    how = "a trusted key" if bundle.signer_trusted else "its embedded key (give --pubkey to check who signed it)"
    print(f"{args.bundle}: OK, bundle {bundle.bundle_id}, signed by {signer}, checked against {how}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    bundle = read_bundle_file(args.bundle)
    out = dict(bundle.manifest)
    out["sizes"] = {name: len(data) for name, data in sorted(bundle.files.items())}
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0


def _keys_generate(args: argparse.Namespace) -> int:
    try:
        key_path, pub_path = generate_keypair(Path(args.output))
    except FileExistsError:
        raise CliError(f"{args.output}.key exists; not overwriting a key") from None
    except OSError as exc:
        raise CliError(f"cannot write {args.output}.key: {exc.strerror}") from None
    print(f"private key: {key_path}\npublic key:  {pub_path}")
    return 0


def register_bundle(commands: argparse._SubParsersAction) -> None:
    bundle = commands.add_parser("bundle", help="build, verify and inspect edge bundles (aiot.bundle/v1)")
    sub = bundle.add_subparsers(dest="bundle_command", metavar="SUBCOMMAND", required=True)
    b = sub.add_parser("build", help="compile a graph and sign it into a bundle; print the bundle id")
    b.add_argument("graph", metavar="GRAPH.json")
    b.add_argument("-o", "--output", required=True, metavar="B.aiotb")
    b.add_argument("--params", metavar="P.json", help="blueprint parameter values")
    b.add_argument(
        "--key",
        metavar="K",
        help="Ed25519 private key (PEM); default $AIOT_SIGNING_KEY or ~/.config/aiot/signing.key, made on first use",
    )
    b.add_argument("--slug", help="the blueprint slug to record in the manifest")
    b.add_argument("--version", help="the blueprint version to record in the manifest")
    b.set_defaults(run=_build)
    v = sub.add_parser("verify", help="check a bundle's signature and every file's hash")
    v.add_argument("bundle", metavar="B.aiotb")
    v.add_argument("--pubkey", metavar="K.pub", help="require this signer (PEM public key)")
    v.set_defaults(run=_verify)
    i = sub.add_parser("inspect", help="print a verified bundle's manifest and file sizes")
    i.add_argument("bundle", metavar="B.aiotb")
    i.set_defaults(run=_inspect)


def _cert_verify(args: argparse.Namespace) -> int:
    from rules_engine.cli import read_json_file

    from .certificate import SignatureError, verify_document

    signed = read_json_file(args.report, "report")
    try:
        trusted = [load_public_key(Path(args.pubkey))] if args.pubkey else None
        report = verify_document(signed, trusted)
    except (SignatureError, KeyError_) as exc:
        raise CliError(f"{args.report}: {exc}") from None
    steps = ", ".join(f"{s['step']} {s['status']}" for s in report.get("steps", []))
    print(
        f"{args.report}: signature OK (key {signed['signer']['key_id']}); {report.get('blueprint')} "
        f"{report.get('version')}: {report.get('verdict')} ({steps})"
    )
    return 0 if report.get("verdict") == "certified" else 2


def register_cert(commands: argparse._SubParsersAction) -> None:
    cert = commands.add_parser("cert", help="certification reports")
    sub = cert.add_subparsers(dest="cert_command", metavar="SUBCOMMAND", required=True)
    v = sub.add_parser("verify", help="check a signed certification report; exit 0 if it certifies, 2 if it fails")
    v.add_argument("report", metavar="REPORT.json")
    v.add_argument("--pubkey", metavar="K.pub", help="require this signer (the studio's public key)")
    v.set_defaults(run=_cert_verify)


def register_keys(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="signing keys")
    sub = keys.add_subparsers(dest="keys_command", metavar="SUBCOMMAND", required=True)
    g = sub.add_parser("generate", help="write PREFIX.key and PREFIX.pub (Ed25519, PEM)")
    g.add_argument("-o", "--output", required=True, metavar="PREFIX")
    g.set_defaults(run=_keys_generate)
