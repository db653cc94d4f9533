"""Edge bundles, ``aiot.bundle/v1``: a reproducible, signed zip of the compiled rule graph.

Layout: ``manifest.json``, ``manifest.sig`` (Ed25519 over the manifest bytes), ``logic.onnx``
(the whole graph), ``plan.json`` (the resolved graph, for the fallback interpreter),
``models/<sha256>.onnx`` and ``schemas/<source>.json``. Reading verifies everything in memory
before anything is used: limits, paths, the signature, every file's hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rules_engine.document import JsonError, loads_limited
from rules_engine.plan import Plan

from .signing import KeyError_, key_id, public_key_from_b64, public_key_to_b64, verify_signature

__all__ = [
    "FORMAT",
    "MAX_BUNDLE_BYTES",
    "MAX_FILES",
    "Bundle",
    "BundleError",
    "canonical_json",
    "pack",
    "read_bundle",
    "read_bundle_file",
]

FORMAT = "aiot.bundle/v1"
MAX_BUNDLE_BYTES = 128 * 1024 * 1024  # the zip, and the sum of its files unpacked
MAX_FILES = 256
MAX_RATIO = 50  # an entry unpacking to more than 50× its stored size is treated as a zip bomb
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ALLOWED = re.compile(
    r"^(manifest\.json|manifest\.sig|logic\.onnx|plan\.json|models/[0-9a-f]{64}\.onnx|"
    r"schemas/[a-z][a-z0-9_]{0,63}\.json)$"
)


class BundleError(ValueError):
    """A bundle we refuse; the message says exactly why. Nothing of it has been used."""


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(files: dict[str, bytes], manifest: dict, key: Ed25519PrivateKey) -> tuple[bytes, str]:
    """The zip bytes and the bundle id. Same inputs → same bytes (Ed25519 is deterministic)."""
    public = key.public_key()
    manifest = dict(manifest)
    manifest["format"] = FORMAT
    manifest["files"] = {name: sha256(data) for name, data in sorted(files.items())}
    manifest["signer"] = {"alg": "Ed25519", "key_id": key_id(public), "public_key": public_key_to_b64(public)}
    manifest.pop("bundle_id", None)
    # The id covers everything the manifest says (and so every file's hash), not the signature.
    manifest["bundle_id"] = sha256(canonical_json(manifest))
    manifest_bytes = canonical_json(manifest)
    entries = {**files, "manifest.json": manifest_bytes, "manifest.sig": key.sign(manifest_bytes)}
    buffer = io.BytesIO()
    # Stored, not deflated: compressed bytes would depend on the host's zlib version.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3  # unix, so that the permission bits below mean what they say
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, entries[name])
    return buffer.getvalue(), manifest["bundle_id"]


@dataclass
class Bundle:
    manifest: dict
    files: dict[str, bytes]
    signer_trusted: bool

    @property
    def bundle_id(self) -> str:
        return self.manifest["bundle_id"]

    @property
    def logic(self) -> bytes:
        return self.files["logic.onnx"]

    def plan_document(self) -> dict:
        return json.loads(self.files["plan.json"])

    def models(self) -> dict[str, bytes]:
        return {name: data for name, data in self.files.items() if name.startswith("models/")}

    def plan(self) -> Plan:
        """The resolved plan, its models served from the bundle."""
        from rules_engine.validation import build_plan

        return build_plan(self.plan_document(), {}, models=self.model_provider())

    def model_provider(self):
        from .models import OnnxModels

        provider = OnnxModels()
        for name, data in self.models().items():
            provider.add(name, data)
        return provider


def read_bundle_file(path: str, pubkey: str | None = None) -> Bundle:
    """A verified bundle from a file, optionally requiring the signer of a PEM public key;
    BundleError names the file and what is wrong."""
    from pathlib import Path

    from .signing import load_public_key

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from None
    try:
        trusted = [load_public_key(Path(pubkey))] if pubkey else None
        return read_bundle(data, trusted)
    except (BundleError, KeyError_) as exc:
        raise BundleError(f"{path}: {exc}") from None


def read_bundle(data: bytes, trusted_keys: list[Ed25519PublicKey] | None = None) -> Bundle:
    """Verify and open a bundle held in memory. Refuses, with a clear BundleError: a bad
    signature or an untrusted signer (when ``trusted_keys`` is given), a file whose hash differs,
    an unknown format, escaping or unexpected paths, symlinks, duplicate names, too many or too
    large files, and entries that unpack far beyond their stored size."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle is {len(data)} bytes; the limit is {MAX_BUNDLE_BYTES}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BundleError(f"not a bundle: not a zip file ({exc})") from None
    infos = zf.infolist()
    if len(infos) > MAX_FILES:
        raise BundleError(f"the bundle holds {len(infos)} entries; at most {MAX_FILES} are allowed")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise BundleError(f"the entry {name!r} appears twice")
        seen.add(name)
        if name.startswith("/") or "\\" in name or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name):
            raise BundleError(f"the entry {name!r} escapes the bundle")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleError(f"the entry {name!r} is a symbolic link")
        if info.is_dir() or not ALLOWED.match(name):
            raise BundleError(
                f"unexpected entry {name!r} (allowed: manifest, logic.onnx, plan.json, models/, schemas/)"
            )
        if info.flag_bits & 0x1:
            raise BundleError(f"the entry {name!r} is encrypted")
        total += info.file_size
        if total > MAX_BUNDLE_BYTES:
            raise BundleError(f"the bundle unpacks to more than {MAX_BUNDLE_BYTES} bytes")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1024):
            raise BundleError(
                f"the entry {name!r} unpacks to {info.file_size} bytes from {info.compress_size}: a zip bomb"
            )
    for required in ("manifest.json", "manifest.sig", "logic.onnx", "plan.json"):
        if required not in seen:
            raise BundleError(f"the bundle has no {required}")

    files: dict[str, bytes] = {}
    for info in infos:
        try:
            with zf.open(info) as f:
                content = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            raise BundleError(f"the entry {info.filename!r} cannot be read: {exc}") from None
        if len(content) != info.file_size:
            raise BundleError(f"the entry {info.filename!r} is not the size its header says")
        files[info.filename] = content

    manifest_bytes = files.pop("manifest.json")
    signature = files.pop("manifest.sig")
    try:
        manifest = loads_limited(manifest_bytes, what="manifest.json")
    except JsonError as exc:
        raise BundleError(str(exc)) from None
    if not isinstance(manifest, dict):
        raise BundleError("manifest.json is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"unknown bundle format {manifest.get('format')!r}; this reader knows {FORMAT}")

    signer = manifest.get("signer") or {}
    try:
        embedded = public_key_from_b64(signer.get("public_key", ""))
    except KeyError_ as exc:
        raise BundleError(f"manifest signer: {exc}") from None
    if not verify_signature(embedded, signature, manifest_bytes):
        raise BundleError("the signature does not match the manifest: the bundle was altered or signed by another key")
    trusted = False
    if trusted_keys is not None:
        if not any(key_id(k) == key_id(embedded) for k in trusted_keys):
            raise BundleError(f"the bundle is signed by key {key_id(embedded)}, which is not a trusted key")
        trusted = True

    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BundleError("manifest.json lists no files")
    for name in sorted(set(listed) | set(files)):
        if name not in files:
            raise BundleError(f"the manifest lists {name!r}, which the bundle does not hold")
        if name not in listed:
            raise BundleError(f"the bundle holds {name!r}, which the manifest does not list")
        if sha256(files[name]) != listed[name]:
            raise BundleError(f"{name} does not match its sha256 in the manifest: it was altered")
    unsigned = {k: v for k, v in manifest.items() if k != "bundle_id"}
    if manifest.get("bundle_id") != sha256(canonical_json(unsigned)):
        raise BundleError("the bundle id does not match the manifest")
    return Bundle(manifest, files, trusted)
