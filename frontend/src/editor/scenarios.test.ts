// The scenario helpers: what a replay becomes, clearing, names, and record comparison.
import { describe, expect, it } from "vitest";
import type { Scenario, SimulateResult } from "../api/types";
import type { GraphDoc } from "../graph/types";
import { clearExpected, computesKey, freeScenarioName, recordExpected, sameValue, scenarioFromReplay, unrecordable } from "./scenarios";

const trace = [{ topic: "t/1", payload: { ts: 1, v: 2 } }];
const result: SimulateResult = {
  records: [{ action: "a", kind: "alert", key: "1", ts: 1, name: "hot", values: { v: 2 } }],
  summary: { messages: 1, events: 1, accepted: 1, actions: 1, rejected: {}, unmatched: 0 },
  series: {},
  counts: {},
  truncated: false,
};

describe("scenarios", () => {
  it("are made from a replay in the built-in blueprints' format, as copies", () => {
    const params = { limit: 1 };
    const sc = scenarioFromReplay({ name: "Hot", description: "It gets hot.", params, trace, result });
    expect(sc).toEqual({
      name: "Hot",
      description: "It gets hot.",
      params: { limit: 1 },
      trace,
      expected: result.records,
      expected_summary: result.summary,
    });
    expect(Object.keys(sc)).toEqual(["name", "description", "params", "trace", "expected", "expected_summary"]);
    expect(sc.trace).not.toBe(trace);
    expect(sc.expected).not.toBe(result.records);
    expect(sc.params).not.toBe(params);
  });

  it("are re-recorded and cleared with the summary", () => {
    const old: Scenario = { name: "x", trace, expected: [], description: "d" };
    const rec = recordExpected(old, result);
    expect(rec).toEqual({ ...old, expected: result.records, expected_summary: result.summary });
    expect(clearExpected(rec)).toEqual({ ...old, expected: [] });
    expect(rec.expected_summary).toEqual(result.summary); // not changed in place
  });

  it("are not recorded from a replay that was cut short", () => {
    expect(unrecordable(result)).toBeNull();
    expect(unrecordable({ ...result, truncated: true })).toMatch(/cut short/);
  });

  it("get a free name", () => {
    const list = [{ name: "a", trace }, { name: "a 2", trace }] as Scenario[];
    expect(freeScenarioName("b", list)).toBe("b");
    expect(freeScenarioName(" a ", list)).toBe("a 3");
    expect(freeScenarioName("", list)).toBe("Recorded replay");
  });

  it("tell a graph change that alters the actions from one of layout, names or descriptions", () => {
    const g: GraphDoc = {
      format: "aiot.graph/v1",
      name: "a",
      params: { type: "object", properties: { limit: { type: "number", default: 8 } } },
      nodes: [{ id: "speed", type: "field", params: { path: "speed_kmh" } }],
      edges: [],
      ui: { speed: { x: 1, y: 2 } },
    };
    const key = computesKey(g);
    expect(computesKey({ ...g, name: "b", description: "d", ui: { speed: { x: 9, y: 9 } } })).toBe(key);
    expect(computesKey({ ...g, nodes: [{ ...g.nodes[0], label: "Speed", description: "km/h" }] })).toBe(key);
    expect(computesKey({ ...g, nodes: [{ ...g.nodes[0], params: { path: "speed" } }] })).not.toBe(key);
    expect(computesKey({ ...g, params: { type: "object", properties: { limit: { type: "number", default: 9 } } } })).not.toBe(key);
    expect(computesKey({ ...g, edges: [{ from: "speed", to: "x.a" }] })).not.toBe(key);
  });

  it("compare records as the engines do: numbers to 1e-9 relative, keys in any order", () => {
    expect(sameValue({ a: 1, b: [1, 2.0] }, { b: [1, 2], a: 1 + 1e-12 })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1.001 })).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue([1], [1, 2])).toBe(false);
    expect(sameValue([], {})).toBe(false);
    expect(sameValue(true, 1)).toBe(false);
    expect(sameValue(null, null)).toBe(true);
  });
});
