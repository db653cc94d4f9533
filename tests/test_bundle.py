"""Bundles: reproducible bytes, verification, and every kind of tampered or hostile bundle refused."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import onnx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_compiler.build import build_bundle
from edge_compiler.bundle import MAX_FILES, BundleError, canonical_json, read_bundle
from tests.engine_cases import TEST_KEY, conformance_cases


def overspeed_graph() -> dict:
    return {
        "format": "aiot.graph/v1",
        "name": "overspeed",
        "params": {"type": "object", "properties": {"limit": {"type": "number", "default": 8}}},
        "nodes": [
            {
                "id": "forklift",
                "type": "source.telemetry",
                "params": {
                    "topic": "site/+/forklift/+/telemetry",
                    "key": "topic:3",
                    "schema": {
                        "type": "object",
                        "required": ["speed_kmh"],
                        "properties": {"speed_kmh": {"type": "number"}},
                    },
                },
            },
            {"id": "speed", "type": "field", "params": {"path": "speed_kmh"}},
            {"id": "fast", "type": "compare", "params": {"op": "gt", "value": {"$param": "limit"}}},
            {"id": "alarm", "type": "action.alert", "params": {"name": "overspeed"}},
        ],
        "edges": [
            {"from": "forklift", "to": "speed"},
            {"from": "speed", "to": "fast.a"},
            {"from": "fast", "to": "alarm.trigger"},
        ],
    }


@pytest.fixture(scope="module")
def good() -> bytes:
    return build_bundle(overspeed_graph(), {}, TEST_KEY).data


def rezip(data: bytes, change) -> bytes:
    """The bundle's entries passed through ``change(entries) -> [(ZipInfo or name, bytes)]``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info, content in change(entries):
            zf.writestr(info, content)
    return out.getvalue()


def resign(entries, key=TEST_KEY, edit_manifest=None):
    """Entries with the manifest rewritten (and re-signed), as an attacker with a key would."""
    entries = {i.filename: c for i, c in entries}
    manifest = json.loads(entries["manifest.json"])
    if edit_manifest:
        edit_manifest(manifest)
    manifest_bytes = canonical_json(manifest)
    entries["manifest.json"] = manifest_bytes
    entries["manifest.sig"] = key.sign(manifest_bytes)
    return sorted(entries.items())


def test_building_twice_gives_the_same_bytes():
    a = build_bundle(overspeed_graph(), {"limit": 9}, TEST_KEY)
    b = build_bundle(overspeed_graph(), {"limit": 9}, TEST_KEY)
    assert a.data == b.data and a.bundle_id == b.bundle_id
    assert build_bundle(overspeed_graph(), {"limit": 10}, TEST_KEY).bundle_id != a.bundle_id


@pytest.mark.parametrize("path", conformance_cases()[::7], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_conformance_graphs_build_reproducibly_and_pass_the_checker(path):
    case = json.loads(path.read_text())
    one = build_bundle(case["graph"], case.get("params") or {}, TEST_KEY, base_dir=str(path.parent))
    two = build_bundle(case["graph"], case.get("params") or {}, TEST_KEY, base_dir=str(path.parent))
    assert one.data == two.data
    bundle = read_bundle(one.data, [TEST_KEY.public_key()])
    onnx.checker.check_model(onnx.load_model_from_string(bundle.logic), full_check=True)


def test_a_good_bundle_verifies_and_names_its_parts(good):
    bundle = read_bundle(good, [TEST_KEY.public_key()])
    assert bundle.signer_trusted
    m = bundle.manifest
    assert m["format"] == "aiot.bundle/v1" and m["opset"] == 21 and m["ir_version"] == 10
    assert [s["topic"] for s in m["sources"]] == ["site/+/forklift/+/telemetry"]
    assert [a["id"] for a in m["actions"]] == ["alarm"]
    assert set(m["files"]) == {"logic.onnx", "plan.json", "schemas/forklift.json"}
    assert m["params"] == {"limit": 8}


def expect_refused(data: bytes, match: str, trusted=True):
    with pytest.raises(BundleError, match=match):
        read_bundle(data, [TEST_KEY.public_key()] if trusted else None)


def test_it_refuses_a_file_whose_hash_differs(good):
    def change(entries):
        return [(i, c + b" " if i.filename == "plan.json" else c) for i, c in entries]

    expect_refused(rezip(good, change), "plan.json does not match its sha256")


def test_it_refuses_an_altered_manifest(good):
    def change(entries):
        out = []
        for i, c in entries:
            if i.filename == "manifest.json":
                c = c.replace(b'"alarm"', b'"alerm"')
            out.append((i, c))
        return out

    expect_refused(rezip(good, change), "signature does not match")


def test_it_refuses_a_bundle_signed_by_another_key(good):
    other = Ed25519PrivateKey.generate()

    def change(entries):
        def edit(m):
            from edge_compiler.signing import key_id, public_key_to_b64

            m["signer"] = {
                "alg": "Ed25519",
                "key_id": key_id(other.public_key()),
                "public_key": public_key_to_b64(other.public_key()),
            }

        return resign(entries, key=other, edit_manifest=edit)

    forged = rezip(good, change)
    expect_refused(forged, "not a trusted key")


def test_it_refuses_an_unknown_format(good):
    def change(entries):
        return resign(entries, edit_manifest=lambda m: m.update(format="aiot.bundle/v9"))

    expect_refused(rezip(good, change), "unknown bundle format 'aiot.bundle/v9'")


@pytest.mark.parametrize("name", ["../evil.json", "/etc/passwd", "models/../../x.onnx", "C:/x", "a\\b"])
def test_it_refuses_paths_that_escape(good, name):
    expect_refused(rezip(good, lambda entries: [*entries, (name, b"x")]), "escapes the bundle|unexpected entry")


def test_it_refuses_unexpected_entries(good):
    expect_refused(rezip(good, lambda entries: [*entries, ("run.sh", b"rm -rf /")]), "unexpected entry 'run.sh'")


def test_it_refuses_symlinks(good):
    link = zipfile.ZipInfo("models/" + "0" * 64 + ".onnx")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    expect_refused(rezip(good, lambda entries: [*entries, (link, b"/etc/passwd")]), "symbolic link")


def test_it_refuses_duplicate_names(good):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we make on purpose
        data = rezip(good, lambda entries: [*entries, ("plan.json", b"{}")])
    expect_refused(data, "appears twice")


def test_it_refuses_too_many_files(good):
    many = [(f"schemas/s{i}.json", b"{}") for i in range(MAX_FILES)]
    expect_refused(rezip(good, lambda entries: [*entries, *many]), "entries; at most")


def test_it_refuses_a_zip_bomb(good):
    bomb = zipfile.ZipInfo("models/" + "1" * 64 + ".onnx")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    expect_refused(rezip(good, lambda entries: [*entries, (bomb, b"\0" * 20_000_000)]), "zip bomb")


def test_it_refuses_files_the_manifest_does_not_list(good):
    extra = ("schemas/extra.json", b"{}")
    expect_refused(rezip(good, lambda entries: [*entries, extra]), "does not list")


def test_it_refuses_what_is_not_a_zip():
    expect_refused(b"PK\x03\x04 not really", "not a zip file")
    expect_refused(b"", "not a zip file")


def test_it_refuses_a_bundle_without_a_manifest(good):
    expect_refused(
        rezip(good, lambda entries: [e for e in entries if e[0].filename != "manifest.json"]), "no manifest.json"
    )
