"""Deploying bundles to the agent: the request, the download, and the bundles kept on disk.

A request on ``aiot/{tenant}/devices/{device}/deploy`` is ``{"bundle_url", "sha256"}`` or
``{"rollback": true}``. The bundle is downloaded with the device token (size-limited), its bytes
must have the announced sha256, and it must verify (signature, hashes) before anything of it runs.
The active and the previous bundle are kept in the state directory, so that a restart runs the
last deployed bundle and a rollback needs no download.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["BundleStore", "DeployError", "DeployRequest", "fetch_bundle", "parse_request"]

MAX_REQUEST_BYTES = 16 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DeployError(ValueError):
    """A deployment we refuse; the message says why. The running bundle is untouched."""


@dataclass(frozen=True)
class DeployRequest:
    rollback: bool = False
    url: str | None = None
    sha256: str | None = None
    id: str | None = None  # the studio's deployment id, echoed in the result

    def describe(self) -> dict:
        return {"rollback": True} if self.rollback else {"bundle_url": _redact(self.url), "sha256": self.sha256}


def _redact(url: str | None) -> str | None:
    """The URL without its query (which may hold a signed token) and user info."""
    if not url:
        return url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def parse_request(payload: bytes) -> DeployRequest:
    if len(payload) > MAX_REQUEST_BYTES:
        raise DeployError(f"the deploy request is {len(payload)} bytes; at most {MAX_REQUEST_BYTES} are read")
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        raise DeployError("the deploy request is not JSON") from None
    if not isinstance(doc, dict):
        raise DeployError("the deploy request is not a JSON object")
    ident = doc.get("id", doc.get("deployment"))
    ident = str(ident)[:128] if isinstance(ident, (str, int)) and not isinstance(ident, bool) else None
    if doc.get("rollback") is True:
        return DeployRequest(rollback=True, id=ident)
    url, digest = doc.get("bundle_url"), doc.get("sha256")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise DeployError("bundle_url must be an http:// or https:// URL")
    if not isinstance(digest, str) or not SHA256.match(digest.lower()):
        raise DeployError("sha256 must be the bundle's sha256 in hex (64 digits)")
    return DeployRequest(url=url, sha256=digest.lower(), id=ident)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow http(s) redirects only, and never take the device token to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-HTTP URL refused", headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def fetch_bundle(
    url: str, sha256: str, *, token: str | None, max_bytes: int, timeout: float = 30.0, ca_file: str | None = None
) -> bytes:
    """The bundle's bytes, checked against ``sha256``; DeployError says why not."""
    headers = {"User-Agent": "aiot-edge-agent", "Accept": "application/octet-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    opener = urllib.request.build_opener(_Redirects(), urllib.request.HTTPSHandler(context=context))
    where = _redact(url)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise DeployError(f"{where}: the bundle is {length} bytes; the limit is {max_bytes}")
            chunks, total = [], 0
            while True:
                chunk = response.read(min(1 << 20, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise DeployError(f"{where}: the bundle is larger than the limit of {max_bytes} bytes")
    except urllib.error.HTTPError as exc:
        raise DeployError(f"{where}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeployError(f"{where}: cannot download: {reason}") from None
    data = b"".join(chunks)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise DeployError(f"{where}: the download's sha256 is {actual}, not the announced {sha256}")
    return data


class BundleStore:
    """``STATE_DIR/state.json`` names the active and previous bundle, kept as ``bundles/<sha256>.aiotb``.

    ``origin`` is the sha256 of the ``--bundle`` file the agent was started with when the first
    deployment happened: started again with that same file, the agent resumes the deployed bundle;
    started with another file, the operator's new file wins.
    """

    def __init__(self, root: str):
        self.root = Path(root)

    @property
    def _state_file(self) -> Path:
        return self.root / "state.json"

    def _read_state(self) -> dict:
        try:
            doc = json.loads(self._state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def _bundle_path(self, digest: str) -> Path:
        return self.root / "bundles" / f"{digest}.aiotb"

    def _read_bundle_file(self, digest: object) -> bytes | None:
        if not isinstance(digest, str) or not SHA256.match(digest):
            return None
        try:
            data = self._bundle_path(digest).read_bytes()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def load(self, origin: str | None) -> tuple[bytes | None, bytes | None]:
        """(active, previous) bytes, when a deployment was made over this same ``origin``."""
        state = self._read_state()
        if not state or (origin is not None and state.get("origin") != origin):
            return None, None
        return self._read_bundle_file(state.get("active")), self._read_bundle_file(state.get("previous"))

    def save(self, active: bytes, previous: bytes | None, origin: str | None) -> None:
        """Write both bundles, then switch ``state.json`` atomically; drop bundles no longer named."""
        (self.root / "bundles").mkdir(parents=True, exist_ok=True)
        names = []
        for data in (active, previous):
            if data is None:
                names.append(None)
                continue
            digest = hashlib.sha256(data).hexdigest()
            path = self._bundle_path(digest)
            if not path.exists():
                _write_atomic(path, data)
            names.append(digest)
        state = {"active": names[0], "previous": names[1], "origin": origin, "updated_ms": int(time.time() * 1000)}
        _write_atomic(self._state_file, json.dumps(state, indent=1).encode())
        for path in (self.root / "bundles").glob("*.aiotb"):
            if path.stem not in names:
                path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
