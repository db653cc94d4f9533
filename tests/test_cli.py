"""The `aiot` command line, run as a user runs it: exit codes, stdout, stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_bundle import overspeed_graph

AIOT = str(Path(sys.executable).parent / "aiot")
TRACE = [
    {"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 1000, "speed_kmh": 5}},
    {"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 2000, "speed_kmh": 9}},
    {"topic": "site/a/forklift/f2/telemetry", "payload": {"ts": 2500, "speed_kmh": "fast"}},
    {"topic": "site/a/forklift/f2/telemetry", "payload": [1, 2]},
    {"topic": "site/a/forklift/f2/telemetry", "payload": {"ts": 3000, "speed_kmh": 12}},
]


def aiot(*args: str, cwd: Path | None = None, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([AIOT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "g.json").write_text(json.dumps(overspeed_graph()))
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(line) for line in TRACE) + "\n")
    return tmp_path


def test_validate_is_silent_and_exits_0_on_a_valid_graph(files):
    r = aiot("graph", "validate", str(files / "g.json"))
    assert (r.returncode, r.stdout) == (0, "")


def test_validate_prints_one_json_problem_a_line(files):
    doc = overspeed_graph()
    doc["edges"].pop()  # alarm.trigger unfed
    doc["nodes"][1]["params"]["path"] = "velocity"
    (files / "bad.json").write_text(json.dumps(doc))
    r = aiot("graph", "validate", str(files / "bad.json"))
    assert r.returncode == 1
    problems = [json.loads(line) for line in r.stdout.splitlines()]
    assert {(p["node"], p["code"]) for p in problems} == {("speed", "unknown_field"), ("alarm", "unfed_input")}
    assert all(set(p) == {"node", "path", "code", "message"} for p in problems)


def test_validate_checks_parameter_values(files):
    (files / "p.json").write_text(json.dumps({"limit": "fast"}))
    r = aiot("graph", "validate", str(files / "g.json"), "--params", str(files / "p.json"))
    assert r.returncode == 1 and json.loads(r.stdout)["code"] == "param_value"


def test_validate_names_the_file_and_line_of_broken_json(files):
    (files / "broken.json").write_text('{\n  "format": "aiot.graph/v1",\n  nodes: []\n}')
    r = aiot("graph", "validate", str(files / "broken.json"))
    assert r.returncode == 1 and "broken.json" in r.stderr and "line 3" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("token", ["NaN", "-Infinity", "9" * 5000])
def test_validate_names_the_file_and_line_of_a_number_json_cannot_hold(files, token):
    (files / "odd.json").write_text('{\n  "format": "aiot.graph/v1",\n  "nodes": [' + token + '],\n  "edges": []\n}')
    r = aiot("graph", "validate", str(files / "odd.json"))
    assert r.returncode == 1 and "odd.json" in r.stderr and "line 3 column 13" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_missing_file_is_a_one_line_error(files):
    r = aiot("graph", "validate", str(files / "nope.json"))
    assert r.returncode == 1 and "nope.json" in r.stderr and "Traceback" not in r.stderr


def test_run_prints_records_on_stdout_and_the_summary_on_stderr(files):
    r = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "t.jsonl"))
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["key"], x["ts"]) for x in records] == [("f1", 2000), ("f2", 3000)]
    assert r.stdout.splitlines()[0] == json.dumps(records[0], sort_keys=True, separators=(",", ":"))
    summary = json.loads(r.stderr.strip().splitlines()[-1])
    assert summary == {
        "messages": 5,
        "events": 5,
        "accepted": 3,
        "rejected": {"not_object": 1, "schema": 1},
        "unmatched": 0,
        "actions": 2,
    }


def test_run_on_both_engines_prints_the_same(files):
    ref = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "t.jsonl"))
    onnx = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "t.jsonl"), "--engine", "onnx")
    assert onnx.returncode == 0 and onnx.stdout == ref.stdout and onnx.stderr == ref.stderr


@pytest.mark.parametrize(
    "line,message",
    [
        ("not json", "not JSON"),
        ('{"payload": {}}', "'topic'"),
        ("[1]", "JSON object"),
        ('{"topic": "x", "arrival_ms": 5}\n{"topic": "x", "arrival_ms": 1}', "goes backwards"),
        ('{"topic": "x", "payload": {"n": ' + "9" * 5000 + "}}", "an integer of more than"),
    ],
)
def test_run_names_the_trace_line_that_is_wrong(files, line, message):
    (files / "bad.jsonl").write_text(json.dumps(TRACE[0]) + "\n" + line + "\n")
    r = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "bad.jsonl"))
    assert r.returncode == 1 and "bad.jsonl:" in r.stderr and message in r.stderr
    assert "Traceback" not in r.stderr
    # The compiled engine reads the file as columns: the same records before it, the same error.
    onnx = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "bad.jsonl"), "--engine", "onnx")
    assert (onnx.returncode, onnx.stdout, onnx.stderr) == (r.returncode, r.stdout, r.stderr)


@pytest.mark.parametrize("engine", ["reference", "onnx"])
def test_run_names_the_byte_of_a_trace_that_is_not_utf8(files, engine):
    (files / "bad.jsonl").write_bytes(json.dumps(TRACE[0]).encode() + b'\n{"topic": "\xff"}\n')
    r = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "bad.jsonl"), "--engine", engine)
    offset = len(json.dumps(TRACE[0])) + 12
    assert r.returncode == 1 and f"is not UTF-8 (byte {offset})" in r.stderr and "Traceback" not in r.stderr


def test_run_of_an_invalid_graph_prints_its_problems(files):
    doc = overspeed_graph()
    doc["nodes"][2]["type"] = "compare.fancy"
    (files / "bad.json").write_text(json.dumps(doc))
    r = aiot("graph", "run", str(files / "bad.json"), "--trace", str(files / "t.jsonl"))
    assert r.returncode == 1 and json.loads(r.stdout.splitlines()[0])["code"] == "unknown_type"


def test_bundle_build_verify_inspect_and_replay(files):
    key = files / "k"
    assert aiot("keys", "generate", "-o", str(key)).returncode == 0
    built = aiot("bundle", "build", str(files / "g.json"), "-o", str(files / "b.aiotb"), "--key", str(key) + ".key")
    assert built.returncode == 0, built.stderr
    bundle_id = built.stdout.strip()
    assert len(bundle_id) == 64
    again = aiot("bundle", "build", str(files / "g.json"), "-o", str(files / "b2.aiotb"), "--key", str(key) + ".key")
    assert again.stdout.strip() == bundle_id
    assert (files / "b.aiotb").read_bytes() == (files / "b2.aiotb").read_bytes()
    verified = aiot("bundle", "verify", str(files / "b.aiotb"), "--pubkey", str(key) + ".pub")
    assert verified.returncode == 0 and bundle_id in verified.stdout
    inspected = json.loads(aiot("bundle", "inspect", str(files / "b.aiotb")).stdout)
    assert inspected["bundle_id"] == bundle_id
    replay = aiot("edge", "replay", str(files / "b.aiotb"), "--trace", str(files / "t.jsonl"))
    ref = aiot("graph", "run", str(files / "g.json"), "--trace", str(files / "t.jsonl"))
    assert replay.returncode == 0 and replay.stdout == ref.stdout and replay.stderr == ref.stderr


def test_verify_refuses_a_bundle_from_another_signer(files):
    aiot("keys", "generate", "-o", str(files / "mine"))
    aiot("keys", "generate", "-o", str(files / "theirs"))
    aiot("bundle", "build", str(files / "g.json"), "-o", str(files / "b.aiotb"), "--key", str(files / "theirs.key"))
    r = aiot("bundle", "verify", str(files / "b.aiotb"), "--pubkey", str(files / "mine.pub"))
    assert r.returncode == 1 and "not a trusted key" in r.stderr


def test_build_without_a_key_makes_one_once(files):
    env = {"AIOT_SIGNING_KEY": str(files / "default" / "signing.key")}
    (files / "default").mkdir()
    first = aiot("bundle", "build", str(files / "g.json"), "-o", str(files / "a.aiotb"), env_extra=env)
    second = aiot("bundle", "build", str(files / "g.json"), "-o", str(files / "b.aiotb"), env_extra=env)
    assert "created a signing key" in first.stderr and "created" not in second.stderr
    assert first.stdout == second.stdout


def test_keys_generate_never_overwrites(files):
    assert aiot("keys", "generate", "-o", str(files / "k")).returncode == 0
    r = aiot("keys", "generate", "-o", str(files / "k"))
    assert r.returncode == 1 and "not overwriting" in r.stderr


def test_every_command_has_help():
    for args in (
        ["--help"],
        ["graph", "validate", "--help"],
        ["graph", "run", "--help"],
        ["bundle", "build", "--help"],
        ["bundle", "verify", "--help"],
        ["bundle", "inspect", "--help"],
        ["edge", "replay", "--help"],
        ["blueprint", "list", "--help"],
        ["blueprint", "export", "--help"],
        ["keys", "generate", "--help"],
    ):
        r = aiot(*args)
        assert r.returncode == 0 and "usage: aiot" in r.stdout, args


def test_blueprint_list_export_and_test(tmp_path):
    listed = json.loads(aiot("blueprint", "list", "--json").stdout)
    slugs = {b["slug"] for b in listed}
    assert slugs == {"smart-warehouse-safety", "cold-chain-monitor", "predictive-maintenance"}
    assert all(10 <= b["nodes"] <= 30 and b["scenarios"] >= 3 for b in listed)
    r = aiot("blueprint", "export", "smart-warehouse-safety", "-o", str(tmp_path / "bp"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "bp" / "graph.json").is_file() and list((tmp_path / "bp" / "models").glob("*.onnx"))
    tested = aiot("blueprint", "test", str(tmp_path / "bp"))
    assert tested.returncode == 0 and tested.stdout.count("ok  ") == 2 * len(
        list((tmp_path / "bp" / "scenarios").glob("*.json"))
    )
    again = aiot("blueprint", "export", "smart-warehouse-safety", "-o", str(tmp_path / "bp"))
    assert again.returncode == 1 and "not empty" in again.stderr
    unknown = aiot("blueprint", "export", "no-such", "-o", str(tmp_path / "x"))
    assert unknown.returncode == 1 and "smart-warehouse-safety" in unknown.stderr
