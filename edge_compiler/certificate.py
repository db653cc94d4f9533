"""Signed documents (certification reports): canonical JSON, Ed25519, verifiable by anyone."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .bundle import canonical_json
from .signing import KeyError_, key_id, public_key_from_b64, public_key_to_b64, verify_signature

__all__ = ["SignatureError", "sign_document", "verify_document"]

FORMAT = "aiot.signed/v1"


class SignatureError(ValueError):
    pass


def sign_document(document: dict, key: Ed25519PrivateKey) -> dict:
    public = key.public_key()
    return {
        "format": FORMAT,
        "document": document,
        "signature": base64.b64encode(key.sign(canonical_json(document))).decode(),
        "signer": {"alg": "Ed25519", "key_id": key_id(public), "public_key": public_key_to_b64(public)},
    }


def verify_document(signed: Any, trusted: list[Ed25519PublicKey] | None = None) -> dict:
    """The document, if its signature holds (and, given ``trusted``, if one of them signed it)."""
    if not isinstance(signed, dict) or signed.get("format") != FORMAT:
        raise SignatureError(f"not a signed document (format {FORMAT})")
    try:
        public = public_key_from_b64((signed.get("signer") or {}).get("public_key", ""))
        signature = base64.b64decode(signed.get("signature", ""), validate=True)
    except (KeyError_, ValueError):
        raise SignatureError("the signer's key or the signature is not valid base64") from None
    document = signed.get("document")
    if not isinstance(document, dict) or not verify_signature(public, signature, canonical_json(document)):
        raise SignatureError("the signature does not match the document: it was altered or signed by another key")
    if trusted is not None and not any(key_id(k) == key_id(public) for k in trusted):
        raise SignatureError(f"signed by key {key_id(public)}, which is not a trusted key")
    return document
