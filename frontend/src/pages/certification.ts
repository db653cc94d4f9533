// A certification run as the version panel shows it: the eight steps (SPEC §9) with their live
// status, built from GET …/certification/ and moved on by `certification.progress` messages, and
// how to read a step's figures and reproduce a failed step on one's own machine.
import type { Certification, CertificationProgress, CertificationStepName, Scenario } from "../api/types";
import type { GraphDoc } from "../graph/types";
import { formatBytes, formatValue } from "../components/ui";

export const CERTIFICATION_STEPS: CertificationStepName[] = [
  "schema",
  "static",
  "compile",
  "reproducible",
  "scenarios",
  "differential",
  "robustness",
  "performance",
];

export const STEP_TITLES: Record<CertificationStepName, { title: string; what: string }> = {
  schema: { title: "Schema", what: "the document and its parameters match their JSON Schemas" },
  static: { title: "Static checks", what: "port types, cycles, reachability, fields, state bounds" },
  compile: { title: "Compile", what: "the signed bundle builds and passes onnx.checker" },
  reproducible: { title: "Reproducible", what: "built twice: the same sha256; run twice: the same actions" },
  scenarios: { title: "Scenarios", what: "every scenario gives its expected actions on both engines" },
  differential: { title: "Differential", what: "compiled = reference on generated traces and boundary values" },
  robustness: { title: "Robustness", what: "malformed payloads, NaN, huge values, 10,000 keys: nothing crashes" },
  performance: { title: "Performance", what: "per-batch latency and events/s against the budget" },
};

export type StepStatus = "pending" | "running" | "passed" | "failed" | "skipped";

export interface StepView {
  step: CertificationStepName;
  status: StepStatus;
  message?: string;
  figures?: Record<string, unknown>;
  repro?: Record<string, unknown>;
  elapsed_s?: number;
  /** when a running step started, by this browser's clock (ms): its elapsed time ticks from it */
  since?: number;
}

export type RunState = "none" | "running" | "certified" | "failed";

export interface CertificationView {
  /** the certification's id; null before the first one, or while the request starting it is out */
  id: number | null;
  state: RunState;
  steps: StepView[];
  reportAvailable: boolean;
  finishedAt?: string | null;
}

const pending = (): StepView[] => CERTIFICATION_STEPS.map((step) => ({ step, status: "pending" }));

export function noCertification(): CertificationView {
  return { id: null, state: "none", steps: pending(), reportAvailable: false };
}

/** A run just asked for: every step pending until the worker says otherwise. */
export function startedCertification(id: number | null): CertificationView {
  return { id, state: "running", steps: pending(), reportAvailable: false };
}

const FINAL = new Set<StepStatus>(["passed", "failed", "skipped"]);
const isStepName = (s: string): s is CertificationStepName => (CERTIFICATION_STEPS as string[]).includes(s);

/**
 * The run as the server has recorded it. `previous` (what live messages made) keeps what the
 * server cannot know yet: the step running now and since when.
 */
export function fromCertification(cert: Certification, previous?: CertificationView): CertificationView {
  if (previous?.id != null && previous.id > cert.id) return previous; // the server answered about an older run
  const recorded = new Map(cert.steps.map((s) => [s.step, s]));
  const sameRun = previous?.id === cert.id || previous?.id === null;
  const steps = CERTIFICATION_STEPS.map((step, i): StepView => {
    const r = recorded.get(step);
    if (r) return { step, status: r.status, message: r.message, figures: r.figures, repro: r.repro, elapsed_s: r.elapsed_s };
    const mine = sameRun ? previous?.steps[i] : undefined;
    return mine && mine.status === "running" ? mine : { step, status: "pending" };
  });
  const state: RunState = cert.state === "running" ? "running" : cert.state;
  if (state === "running" && !steps.some((s) => s.status === "running")) {
    const next = steps.find((s) => s.status === "pending");
    if (next) next.status = "running"; // its start time is the worker's to know
  }
  return { id: cert.id, state, steps, reportAvailable: cert.report_available, finishedAt: cert.finished_at };
}

/** One `certification.progress` message of this version applied (`now`: Date.now()). */
export function applyProgress(view: CertificationView, p: CertificationProgress, now: number): CertificationView {
  if (view.id !== null && p.certification < view.id) return view; // a late message of an earlier run
  if (view.id === p.certification && (view.state === "certified" || view.state === "failed")) return view; // over
  const next: CertificationView =
    view.id !== null && p.certification > view.id
      ? startedCertification(p.certification) // someone started another run
      : { ...view, id: p.certification, steps: view.steps.slice() };
  if (p.step === "report") {
    const verdict = p.verdict ?? (p.status === "certified" ? "certified" : "failed");
    return { ...next, state: verdict, reportAvailable: true, steps: next.steps.map((s) => (s.status === "running" ? { ...s, status: "pending" } : s)) };
  }
  if (!isStepName(p.step)) return next;
  const i = CERTIFICATION_STEPS.indexOf(p.step);
  if (p.status === "running") {
    if (FINAL.has(next.steps[i].status)) return next; // re-delivered: the result is already in
    next.steps[i] = { step: p.step, status: "running", since: now };
  } else {
    const status: StepStatus = p.status === "passed" || p.status === "skipped" ? p.status : "failed";
    next.steps[i] = { ...next.steps[i], step: p.step, status, message: p.message, figures: p.figures, elapsed_s: p.elapsed_s, since: undefined };
  }
  return { ...next, state: "running" };
}

/** Steps before one that has started are still pending: messages were missed (fetch the run). */
export function hasGap(view: CertificationView): boolean {
  const lastSeen = view.steps.map((s) => s.status !== "pending").lastIndexOf(true);
  return view.steps.slice(0, lastSeen).some((s) => s.status === "pending" || s.status === "running");
}

/** Every step finished (the report message may still be on its way). */
export function allStepsDone(view: CertificationView): boolean {
  return view.steps.every((s) => FINAL.has(s.status));
}

export function formatElapsed(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** The seconds a step has taken: its recorded time, or for a running one, the time since it began. */
export function stepElapsed(step: StepView, now: number): number | undefined {
  if (step.elapsed_s !== undefined) return step.elapsed_s;
  if (step.status === "running" && step.since !== undefined) return Math.max(0, (now - step.since) / 1000);
  return undefined;
}

const FIGURE_LABELS: Record<string, string> = {
  p50_ms_per_batch: "p50 per batch",
  p99_ms_per_batch: "p99 per batch",
  p99_ms_per_event: "p99 per event",
  budget_p99_ms_per_batch: "budget (p99 per batch)",
  events_per_s: "events/s",
  bundle_bytes: "bundle size",
  logic_bytes: "logic size",
  bundle_id: "bundle",
  window_values_per_key: "window values per key",
};

export function figureLabel(name: string): string {
  return FIGURE_LABELS[name] ?? name.replace(/_/g, " ");
}

export function formatFigure(name: string, value: unknown): string {
  if (typeof value === "number") {
    if (name.endsWith("_bytes")) return formatBytes(value);
    if (/(^|_)ms(_|$)/.test(name)) return `${formatValue(value)} ms`;
    if (name.endsWith("_per_s")) return `${Math.round(value).toLocaleString("en")}/s`;
    return Number.isInteger(value) ? value.toLocaleString("en") : formatValue(value);
  }
  if (typeof value === "string" && /^[0-9a-f]{64}$/.test(value)) return `${value.slice(0, 12)}…`;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k} ${formatValue(v)}`);
    return parts.length ? parts.join(", ") : "none";
  }
  return formatValue(value);
}

// --- reproducing a failed step ------------------------------------------------------------------

export interface ReproFile {
  name: string;
  content: string;
}

export interface Repro {
  /** what failed, one line (or a few) each */
  findings: string[];
  /** files to download and run the commands on */
  files: ReproFile[];
  /** shell commands (the `aiot` command line) that show the failure */
  commands: string[];
}

interface ProblemLike {
  node?: string | null;
  path?: string;
  code?: string;
  message?: string;
}

const jsonl = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
const pretty = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-|-$/g, "") || "scenario";

/**
 * How to see a failed step for oneself: what failed, the files (the version's graph, the trace
 * the step ran) and the `aiot` commands that run them on the reference and the compiled engine.
 */
export function reproOf(step: StepView, version: { graph: GraphDoc; scenarios?: Scenario[] } | null): Repro | null {
  if (step.status !== "failed") return null;
  const repro = step.repro ?? {};
  const graphFile: ReproFile[] = version ? [{ name: "graph.json", content: pretty(version.graph) }] : [];
  const runBoth = (trace: string, params?: string) =>
    ["reference", "onnx"].map((e) => `aiot graph run graph.json --trace ${trace}${params ? ` --params ${params}` : ""} --engine ${e}`);
  const findings: string[] = [];
  if (step.message) findings.push(step.message);
  switch (step.step) {
    case "schema":
    case "static": {
      const problems = (repro.problems as ProblemLike[] | undefined) ?? [];
      for (const p of problems) findings.push(`${p.node ? `${p.node}: ` : ""}${p.path ?? ""} ${p.code ?? ""}: ${p.message ?? ""}`.trim());
      return { findings, files: graphFile, commands: ["aiot graph validate graph.json"] };
    }
    case "scenarios": {
      const failures = (repro.failures as Record<string, unknown>[] | undefined) ?? [];
      const files = [...graphFile];
      const commands: string[] = [];
      const done = new Set<string>();
      for (const f of failures) {
        const name = String(f.scenario ?? "scenario");
        findings.push(`${name} (${String(f.engine ?? "?")}): ${String(f.difference ?? "")}`);
        if (done.has(name)) continue;
        done.add(name);
        const base = fileSafe(name);
        if (Array.isArray(f.trace)) files.push({ name: `${base}.jsonl`, content: jsonl(f.trace) });
        if (Array.isArray(f.expected)) files.push({ name: `${base}.expected.json`, content: pretty(f.expected) });
        const params = version?.scenarios?.find((s) => s.name === name)?.params;
        const paramsFile = params && Object.keys(params).length ? `${base}.params.json` : undefined;
        if (paramsFile) files.push({ name: paramsFile, content: pretty(params) });
        commands.push(...runBoth(`${base}.jsonl`, paramsFile));
      }
      return { findings, files, commands };
    }
    case "reproducible":
    case "differential": {
      if (typeof repro.difference === "string") findings.push(repro.difference);
      if (Array.isArray(repro.trace)) {
        return { findings, files: [...graphFile, { name: "trace.jsonl", content: jsonl(repro.trace) }], commands: runBoth("trace.jsonl") };
      }
      const f = step.figures ?? {};
      if (f.first !== undefined) findings.push(`first build ${String(f.first)}, second ${String(f.second)}`);
      return { findings, files: graphFile, commands: ["aiot bundle build graph.json -o a.aiotb", "aiot bundle build graph.json -o b.aiotb", "sha256sum a.aiotb b.aiotb"] };
    }
    case "robustness": {
      if (typeof repro.difference === "string") findings.push(repro.difference);
      if (repro.reference_summary) findings.push(`reference: ${JSON.stringify(repro.reference_summary)}`);
      if (repro.compiled_summary) findings.push(`compiled: ${JSON.stringify(repro.compiled_summary)}`);
      return { findings, files: graphFile, commands: [] };
    }
    case "performance":
    default:
      return { findings, files: graphFile, commands: [] };
  }
}
