import { describe, expect, it } from "vitest";
import type { Certification, CertificationProgress } from "../api/types";
import type { GraphDoc } from "../graph/types";
import {
  CERTIFICATION_STEPS,
  allStepsDone,
  applyProgress,
  formatElapsed,
  formatFigure,
  fromCertification,
  hasGap,
  noCertification,
  reproOf,
  startedCertification,
  stepElapsed,
  type CertificationView,
} from "./certification";

const msg = (step: string, status: string, extra: Partial<CertificationProgress> = {}): CertificationProgress => ({
  certification: 7,
  blueprint: "cold",
  version: "1.0.0",
  step,
  index: CERTIFICATION_STEPS.indexOf(step as never),
  total: 8,
  status,
  ...extra,
});

const statuses = (v: CertificationView) => v.steps.map((s) => s.status).join(" ");

describe("a certification run followed live", () => {
  it("moves each step from pending to running to its result, then takes the verdict", () => {
    let v = startedCertification(null);
    expect(statuses(v)).toBe("pending pending pending pending pending pending pending pending");
    v = applyProgress(v, msg("schema", "running"), 1000);
    expect(v.id).toBe(7);
    expect(v.steps[0]).toMatchObject({ status: "running", since: 1000 });
    expect(stepElapsed(v.steps[0], 3500)).toBe(2.5);
    v = applyProgress(v, msg("schema", "passed", { message: "ok", figures: {}, elapsed_s: 0.012 }), 1100);
    expect(v.steps[0]).toMatchObject({ status: "passed", elapsed_s: 0.012, since: undefined });
    expect(stepElapsed(v.steps[0], 99999)).toBe(0.012);
    v = applyProgress(v, msg("static", "running"), 1200);
    v = applyProgress(v, msg("static", "failed", { message: "2 problem(s)", figures: { problems: 2 } }), 1300);
    for (const step of CERTIFICATION_STEPS.slice(2)) v = applyProgress(v, msg(step, "skipped", { message: "needs plan" }), 1400);
    expect(allStepsDone(v)).toBe(true);
    expect(v.state).toBe("running");
    v = applyProgress(v, msg("report", "failed", { index: 8, verdict: "failed" }), 1500);
    expect(v).toMatchObject({ state: "failed", reportAvailable: true });
    expect(statuses(v)).toBe("passed failed skipped skipped skipped skipped skipped skipped");
  });

  it("ignores a late message of an earlier run, and of a run that is over; starts over for a newer run", () => {
    let v = applyProgress(startedCertification(7), msg("schema", "running"), 0);
    const late = applyProgress(v, msg("compile", "passed", { certification: 6 }), 0);
    expect(late).toBe(v);
    v = applyProgress(v, msg("report", "certified", { verdict: "certified" }), 0);
    expect(applyProgress(v, msg("schema", "running"), 0)).toBe(v);
    const again = applyProgress(v, msg("schema", "running", { certification: 8 }), 5);
    expect(again).toMatchObject({ id: 8, state: "running", reportAvailable: false });
    expect(statuses(again)).toBe("running pending pending pending pending pending pending pending");
  });

  it("keeps a result when its 'running' message comes again", () => {
    let v = applyProgress(startedCertification(7), msg("schema", "passed"), 0);
    v = applyProgress(v, msg("schema", "running"), 0);
    expect(v.steps[0].status).toBe("passed");
  });

  it("notices missed messages: a step has started while an earlier one is still pending", () => {
    const v = applyProgress(startedCertification(7), msg("compile", "running"), 0);
    expect(hasGap(v)).toBe(true);
    expect(hasGap(applyProgress(startedCertification(7), msg("schema", "running"), 0))).toBe(false);
  });
});

describe("a certification run as the studio recorded it", () => {
  const cert = (over: Partial<Certification> = {}): Certification => ({
    id: 7,
    state: "running",
    steps: [
      { step: "schema", status: "passed", message: "fine", figures: {}, elapsed_s: 0.01 },
      { step: "static", status: "passed", figures: { nodes: 23 }, elapsed_s: 0.1 },
    ],
    started_at: "2026-01-01T00:00:00Z",
    finished_at: null,
    report_available: false,
    ...over,
  });

  it("shows the recorded steps, and the next one as running while the run goes on", () => {
    const v = fromCertification(cert());
    expect(statuses(v)).toBe("passed passed running pending pending pending pending pending");
    expect(v.steps[2].since).toBeUndefined();
    expect(v.state).toBe("running");
  });

  it("keeps the running step (and its start time) that live messages showed", () => {
    let live = applyProgress(startedCertification(null), msg("schema", "passed"), 0);
    live = applyProgress(live, msg("static", "passed"), 0);
    live = applyProgress(live, msg("compile", "running"), 4242);
    live = applyProgress(live, msg("reproducible", "running"), 5000); // the server has not recorded compile yet
    const v = fromCertification(cert(), live);
    expect(v.steps[2]).toMatchObject({ status: "running", since: 4242 });
    expect(v.steps[3]).toMatchObject({ status: "running", since: 5000 });
  });

  it("a finished run: its verdict, the report, a failed step's repro", () => {
    const v = fromCertification(
      cert({
        state: "failed",
        report_available: true,
        finished_at: "2026-01-01T00:01:00Z",
        steps: [{ step: "scenarios", status: "failed", message: "wrong", repro: { failures: [] } }],
      }),
    );
    expect(v).toMatchObject({ state: "failed", reportAvailable: true, finishedAt: "2026-01-01T00:01:00Z" });
    expect(v.steps[4]).toMatchObject({ status: "failed", repro: { failures: [] } });
  });

  it("an answer about an older run leaves a newer one alone", () => {
    const newer = startedCertification(9);
    expect(fromCertification(cert(), newer)).toBe(newer);
  });

  it("nothing yet", () => {
    expect(noCertification()).toMatchObject({ id: null, state: "none" });
  });
});

describe("figures and times", () => {
  it.each([
    ["p99_ms_per_batch", 1.23456, "1.235 ms"],
    ["events_per_s", 123456.7, "123,457/s"],
    ["bundle_bytes", 20480, "20.0 KiB"],
    ["nodes", 23, "23"],
    ["bundle_id", "a".repeat(64), "aaaaaaaaaaaa…"],
    ["rejected", { schema: 3, nan: 1 }, "schema 3, nan 1"],
    ["rejected", {}, "none"],
  ])("%s %j reads %s", (name, value, text) => {
    expect(formatFigure(name, value)).toBe(text);
  });

  it.each([
    [0.0123, "12 ms"],
    [2.345, "2.3 s"],
    [125, "2 min 5 s"],
    [undefined, ""],
  ])("%s s reads %s", (s, text) => {
    expect(formatElapsed(s)).toBe(text);
  });
});

describe("how to reproduce a failed step", () => {
  const graph = { format: "aiot.graph/v1", nodes: [], edges: [] } as unknown as GraphDoc;

  it("a failed scenario: its trace and expected actions as files, both engines' commands", () => {
    const repro = reproOf(
      {
        step: "scenarios",
        status: "failed",
        message: "scenarios that do not produce their expected actions: Door left open (compiled)",
        repro: {
          failures: [
            { scenario: "Door left open", engine: "reference", difference: "record 0 differs", trace: [{ topic: "a", payload: { x: 1 } }], expected: [] },
            { scenario: "Door left open", engine: "compiled", difference: "record 0 differs", trace: [{ topic: "a", payload: { x: 1 } }], expected: [] },
          ],
        },
      },
      { graph, scenarios: [{ name: "Door left open", params: { door_open_reports: 2 }, trace: [] }] },
    )!;
    expect(repro.findings).toEqual([
      "scenarios that do not produce their expected actions: Door left open (compiled)",
      "Door left open (reference): record 0 differs",
      "Door left open (compiled): record 0 differs",
    ]);
    expect(repro.files.map((f) => f.name)).toEqual(["graph.json", "Door-left-open.jsonl", "Door-left-open.expected.json", "Door-left-open.params.json"]);
    expect(repro.files[1].content).toBe('{"topic":"a","payload":{"x":1}}\n');
    expect(repro.commands).toEqual([
      "aiot graph run graph.json --trace Door-left-open.jsonl --params Door-left-open.params.json --engine reference",
      "aiot graph run graph.json --trace Door-left-open.jsonl --params Door-left-open.params.json --engine onnx",
    ]);
  });

  it("static problems are listed, with the validate command", () => {
    const repro = reproOf(
      { step: "static", status: "failed", message: "1 problem(s)", repro: { problems: [{ node: "cmp", path: "/nodes/3", code: "type", message: "expect number, got bool" }] } },
      { graph },
    )!;
    expect(repro.findings[1]).toBe("cmp: /nodes/3 type: expect number, got bool");
    expect(repro.commands).toEqual(["aiot graph validate graph.json"]);
  });

  it("a differential failure ships its generated trace", () => {
    const repro = reproOf({ step: "differential", status: "failed", repro: { trace: [{ topic: "t", payload: {} }], difference: "record 3 differs" } }, { graph })!;
    expect(repro.findings).toEqual(["record 3 differs"]);
    expect(repro.files.map((f) => f.name)).toEqual(["graph.json", "trace.jsonl"]);
    expect(repro.commands).toHaveLength(2);
  });

  it("only failed steps have one", () => {
    expect(reproOf({ step: "schema", status: "passed" }, { graph })).toBeNull();
  });
});
