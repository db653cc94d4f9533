import { describe, expect, it } from "vitest";
import registryJson from "../__fixtures__/node-types.json";
import type { Registry } from "./types";
import { checkConnection, implicitPort, inputPorts, outputKinds, portKind, specOf, type NodeLike, type EdgeLike } from "./ports";

const registry = registryJson as unknown as Registry;

const nodes: NodeLike[] = [
  ["src", "source.telemetry"],
  ["speed", "field"],
  ["limit", "const"],
  ["sum", "math.add"],
  ["fast", "compare"],
  ["calm", "logic.not"],
  ["both", "logic.and"],
  ["hot", "hysteresis"],
  ["steady", "debounce"],
  ["zone_ok", "in_set"],
  ["model", "model.onnx"],
  ["pick", "logic.select"],
  ["alarm", "action.alert"],
  ["cmd", "action.publish"],
].map(([id, kind]) => ({ id, data: { kind } }));

const connect = (source: string, target: string, targetHandle: string, edges: EdgeLike[] = []) =>
  checkConnection(registry, nodes, edges, { source, target, targetHandle, sourceHandle: "out" });

describe("the registry fixture", () => {
  it("is the exported registry format", () => {
    expect(registry.format).toBe("aiot.node-types/v1");
    expect(registry.node_types.length).toBeGreaterThan(20);
    expect(registry.compatibility.any).toEqual(["number", "bool", "category"]);
  });
});

describe("isValidConnection, from the registry's port types", () => {
  it("lets a source's record feed a field", () => {
    expect(connect("src", "speed", "in").ok).toBe(true);
  });

  it("refuses a record where a number is expected", () => {
    const v = connect("src", "sum", "a");
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/expect number, got record/);
  });

  it("refuses a record on an any port (any takes scalars only)", () => {
    expect(connect("src", "fast", "a").ok).toBe(false);
  });

  it("lets a number feed a number port", () => {
    expect(connect("sum", "hot", "in").ok).toBe(true);
    expect(connect("sum", "model", "in1").ok).toBe(true);
  });

  it("refuses a number where a bool is expected", () => {
    expect(connect("sum", "calm", "in").ok).toBe(false);
    expect(connect("sum", "alarm", "trigger").ok).toBe(false);
  });

  it("lets a bool trigger an action", () => {
    expect(connect("fast", "alarm", "trigger").ok).toBe(true);
    expect(connect("hot", "steady", "in").ok).toBe(true);
  });

  it("treats outputs the registry leaves open (field, const, select) as any scalar", () => {
    expect(outputKinds(registry, specOf(registry, "field"))).toEqual(["number", "bool", "category"]);
    expect(connect("speed", "fast", "a").ok).toBe(true);
    expect(connect("limit", "sum", "b").ok).toBe(true);
    expect(connect("speed", "zone_ok", "in").ok).toBe(true);
    expect(connect("pick", "calm", "in").ok).toBe(true);
    // …but never a record
    expect(connect("speed", "both", "in1").ok).toBe(true);
  });

  it("accepts variadic ports in1…inN of their declared type", () => {
    expect(connect("fast", "both", "in1").ok).toBe(true);
    expect(connect("fast", "both", "in7").ok).toBe(true);
    expect(connect("sum", "both", "in1").ok).toBe(false);
    expect(connect("fast", "both", "in0").ok).toBe(false);
  });

  it("accepts any scalar on an action's value ports", () => {
    expect(connect("sum", "alarm", "speed_kmh").ok).toBe(true);
    expect(connect("fast", "cmd", "flag").ok).toBe(true);
    expect(connect("src", "alarm", "raw").ok).toBe(false);
    expect(connect("sum", "alarm", "Bad-Name").ok).toBe(false);
  });

  it("refuses ports a type does not have", () => {
    const v = connect("sum", "hot", "nope");
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/no port nope/);
  });

  it("refuses an action's output as an input", () => {
    expect(connect("alarm", "fast", "a").ok).toBe(false);
  });

  it("refuses a second edge into a fed port", () => {
    const edges = [{ source: "sum", target: "hot", targetHandle: "in" }];
    const v = connect("limit", "hot", "in", edges);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/already fed/);
  });

  it("refuses a node feeding itself and an edge that closes a cycle", () => {
    expect(connect("sum", "sum", "a").ok).toBe(false);
    const edges = [
      { source: "sum", target: "hot", targetHandle: "in" },
      { source: "hot", target: "both", targetHandle: "in1" },
    ];
    expect(checkConnection(registry, nodes, edges, { source: "both", target: "pick", targetHandle: "cond" }).ok).toBe(true);
    const cyc = [...edges, { source: "both", target: "pick", targetHandle: "cond" }];
    expect(checkConnection(registry, nodes, cyc, { source: "pick", target: "sum", targetHandle: "a" }).ok).toBe(false);
  });

  it("refuses a connection without a target port", () => {
    expect(checkConnection(registry, nodes, [], { source: "sum", target: "hot", targetHandle: null }).ok).toBe(false);
  });
});

describe("ports", () => {
  it("shows a variadic node's minimum slots, then one spare once they are all fed", () => {
    const and = specOf(registry, "logic.and");
    expect(inputPorts(and, []).map((p) => p.name)).toEqual(["in1", "in2"]);
    const fed = inputPorts(and, ["in1", "in2"]);
    expect(fed.map((p) => p.name)).toEqual(["in1", "in2", "in3"]);
    expect(fed[2].spare).toBe(true);
    expect(inputPorts(and, ["in5"]).map((p) => p.name)).toEqual(["in1", "in2", "in3", "in4", "in5", "in6"]);
    expect(inputPorts(specOf(registry, "model.onnx"), []).map((p) => p.name)).toEqual(["in1"]);
  });

  it("shows an action's trigger, then its fed and added value ports", () => {
    const alert = specOf(registry, "action.alert");
    const ports = inputPorts(alert, ["trigger", "speed"], ["zone", "speed"]);
    expect(ports.map((p) => [p.name, p.kind, !!p.open])).toEqual([
      ["trigger", "bool", false],
      ["speed", "any", true],
      ["zone", "any", true],
    ]);
  });

  it("knows the kind of every port the registry declares", () => {
    for (const t of registry.node_types) {
      for (const p of t.inputs) expect(portKind(t, p.name)).toBe(p.type.kind);
    }
    expect(portKind(specOf(registry, "logic.or"), "in9")).toBe("bool");
    expect(portKind(specOf(registry, "math.add"), "c")).toBeNull();
  });

  it("resolves an edge to a node without a port to its only input", () => {
    expect(implicitPort(specOf(registry, "field"))).toBe("in");
    expect(implicitPort(specOf(registry, "action.alert"))).toBe("trigger");
    expect(implicitPort(specOf(registry, "source.telemetry"))).toBeNull();
  });
});

describe("the + value handle of an action", () => {
  it("takes any scalar, never a record, and only on actions", () => {
    expect(connect("sum", "alarm", "+value").ok).toBe(true);
    expect(connect("src", "alarm", "+value").ok).toBe(false);
    expect(connect("sum", "hot", "+value").ok).toBe(false);
  });

  it("is not blocked by an edge already on it (each drop makes a new port)", () => {
    const edges = [{ source: "sum", target: "alarm", targetHandle: "sum" }];
    expect(connect("speed", "alarm", "+value", edges).ok).toBe(true);
  });
});
