"""Ed25519 keys for bundles and certification reports: generate, load, sign, verify."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "KeyError_",
    "default_key_path",
    "generate_keypair",
    "key_id",
    "load_or_create_default_key",
    "load_private_key",
    "load_public_key",
    "public_key_from_b64",
    "public_key_to_b64",
    "verify_signature",
]


class KeyError_(ValueError):
    """A key file that cannot be used; the message names the file."""


def generate_keypair(prefix: Path) -> tuple[Path, Path]:
    """Write PREFIX.key (PEM, PKCS#8, mode 600) and PREFIX.pub (PEM)."""
    private = Ed25519PrivateKey.generate()
    key_path, pub_path = prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")
    key_bytes = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_bytes)
    pub_path.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return key_path, pub_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise KeyError_(f"cannot read key {path}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise KeyError_(f"cannot read public key {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise KeyError_(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyError_(f"{path} is not an Ed25519 public key")
    return key


def public_key_to_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError):
        raise KeyError_("the public key is not 32 bytes of base64") from None


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint people can compare: the first 16 hex digits of the key's sha256."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify_signature(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def default_key_path() -> Path:
    if os.environ.get("AIOT_SIGNING_KEY"):
        return Path(os.environ["AIOT_SIGNING_KEY"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "aiot" / "signing.key"


def load_or_create_default_key() -> tuple[Ed25519PrivateKey, Path, bool]:
    """The user's signing key ($AIOT_SIGNING_KEY or ~/.config/aiot/signing.key), made on first use."""
    path = default_key_path()
    if path.exists():
        return load_private_key(path), path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    generate_keypair(path.with_suffix(""))
    return load_private_key(path), path, True
