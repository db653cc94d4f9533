// Scenarios (SPEC §4): a telemetry trace and the actions it must produce, stored with a version as
// the built-in blueprints have them: `{name, description, params, trace, expected, expected_summary}`.
// The expected actions are recorded from a replay (POST …/simulate, the reference engine), which is
// what the studio's certification and `aiot blueprint test` compare a scenario's run with.
import { api, tenantPath } from "../api/client";
import type { ActionRecord, Scenario, SimulateResult, TraceLine } from "../api/types";
import { stableJson } from "../graph/diff";
import type { GraphDoc } from "../graph/types";
import { editorStore } from "./store";

/** Replays a trace through the graph being edited, with the given parameter values. */
export function simulate(
  tenant: string,
  trace: TraceLine[],
  params: Record<string, unknown>,
  series: string[] = [],
): Promise<SimulateResult> {
  return api<SimulateResult>(tenantPath(tenant, "/simulate"), {
    method: "POST",
    body: { graph: editorStore.getState().toGraph(), params, trace, series },
  });
}

/** What of a graph decides its actions: not its layout, names or descriptions. */
export function computesKey(graph: GraphDoc): string {
  return stableJson({
    params: graph.params ?? null,
    nodes: graph.nodes.map((n) => ({ id: n.id, type: n.type, params: n.params ?? {} })),
    edges: graph.edges,
  });
}

/** Why a replay's actions cannot be kept as what a scenario must produce, or null. */
export function unrecordable(result: SimulateResult): string | null {
  if (result.truncated) {
    return "This replay was cut short (too many actions or points), so its actions are incomplete and cannot be recorded.";
  }
  return null;
}

/** A new scenario: the replayed trace, with the actions the replay produced as its expected ones. */
export function scenarioFromReplay(opts: {
  name: string;
  description: string;
  params: Record<string, unknown>;
  trace: TraceLine[];
  result: SimulateResult;
}): Scenario {
  return {
    name: opts.name,
    description: opts.description,
    params: structuredClone(opts.params),
    trace: structuredClone(opts.trace),
    expected: structuredClone(opts.result.records),
    expected_summary: structuredClone(opts.result.summary),
  };
}

/** The scenario, now expecting what this replay of it produced. */
export function recordExpected(scenario: Scenario, result: SimulateResult): Scenario {
  return { ...scenario, expected: structuredClone(result.records), expected_summary: structuredClone(result.summary) };
}

/** The scenario, now expecting no actions (and no particular summary). */
export function clearExpected(scenario: Scenario): Scenario {
  const next: Scenario = { ...scenario, expected: [] };
  delete next.expected_summary;
  return next;
}

/** A scenario's expected actions as records (the API accepts any JSON objects there). */
export function expectedOf(scenario: Scenario): ActionRecord[] {
  return Array.isArray(scenario.expected) ? (scenario.expected as ActionRecord[]) : [];
}

/** JSON equality with numbers equal to 1e-9 relative, as the engines' records are compared. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return (
      ka.length === kb.length &&
      ka.every((k, i) => k === kb[i]) &&
      ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}

/** One line for an action record: "alert overspeed (FL-07)" or "command to topic (FL-07)". */
export function describeRecord(r: ActionRecord): string {
  const what = r.kind === "alert" ? `alert ${r.name ?? r.action}` : `command to ${r.topic ?? r.action}`;
  return `${what} (${r.key})`;
}

/** A name not used by any of the scenarios: the wanted one, else it with " 2", " 3", … */
export function freeScenarioName(wanted: string, scenarios: Scenario[]): string {
  const taken = new Set(scenarios.map((s) => s.name));
  const base = wanted.trim() || "Recorded replay";
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}
