import { beforeEach, describe, expect, it } from "vitest";
import registryJson from "../__fixtures__/node-types.json";
import warehouse from "../__fixtures__/warehouse-graph.json";
import type { Registry } from "../registry/types";
import type { GraphDoc } from "../graph/types";
import { createEditorStore, freshId, isDirty, type EditorStore } from "./store";

const registry = registryJson as unknown as Registry;
let store: EditorStore;
const s = () => store.getState();

beforeEach(() => {
  store = createEditorStore();
  s().setRegistry(registry);
  s().load({ graph: { format: "aiot.graph/v1", name: "t", nodes: [], edges: [], ui: {} } });
});

function buildSmall() {
  const src = s().addNode("source.telemetry", { x: 0, y: 0 });
  const speed = s().addNode("field", { x: 200, y: 0 });
  const fast = s().addNode("compare", { x: 400, y: 0 });
  const alarm = s().addNode("action.alert", { x: 600, y: 0 });
  expect(s().connect({ source: src, target: speed, targetHandle: "in", sourceHandle: "out" }).ok).toBe(true);
  expect(s().connect({ source: speed, target: fast, targetHandle: "a", sourceHandle: "out" }).ok).toBe(true);
  expect(s().connect({ source: fast, target: alarm, targetHandle: "trigger", sourceHandle: "out" }).ok).toBe(true);
  return { src, speed, fast, alarm };
}

describe("the editor store", () => {
  it("adds nodes with fresh ids and their required params' defaults", () => {
    const a = s().addNode("action.alert", { x: 10, y: 20 });
    const b = s().addNode("action.alert", { x: 10, y: 20 });
    expect([a, b]).toEqual(["alert_1", "alert_2"]);
    const src = s().addNode("source.telemetry", { x: 0, y: 0 });
    expect(s().nodes.find((n) => n.id === src)!.data.params).toEqual({ schema: {} });
    expect(s().nodes.find((n) => n.id === src)!.type).toBe("source");
    expect(s().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual([src]);
  });

  it("connects ports the registry allows, and refuses the others", () => {
    const { src, fast, alarm } = buildSmall();
    expect(s().edges).toHaveLength(3);
    const v = s().connect({ source: src, target: alarm, targetHandle: "trigger" });
    expect(v.ok).toBe(false);
    expect(s().isValidConnection({ source: src, target: fast, targetHandle: "b" })).toBe(false);
    expect(s().edges).toHaveLength(3);
  });

  it("writes the graph document", () => {
    buildSmall();
    const g = s().toGraph();
    expect(g.nodes.map((n) => n.type)).toEqual(["source.telemetry", "field", "compare", "action.alert"]);
    expect(g.edges).toEqual([
      { from: "telemetry_1", to: "field_1.in" },
      { from: "field_1", to: "compare_1.a" },
      { from: "compare_1", to: "alert_1.trigger" },
    ]);
    expect(g.ui?.compare_1).toEqual({ x: 400, y: 0 });
  });

  it("deletes the selection with the edges around it, and undoes and redoes that", () => {
    const { speed } = buildSmall();
    s().select([speed]);
    s().deleteSelected();
    expect(s().nodes.map((n) => n.id)).not.toContain(speed);
    expect(s().edges).toHaveLength(1);
    s().undo();
    expect(s().nodes.map((n) => n.id)).toContain(speed);
    expect(s().edges).toHaveLength(3);
    s().redo();
    expect(s().edges).toHaveLength(1);
  });

  it("undoes every step back to the empty graph, and redoes them all", () => {
    buildSmall();
    const full = s().toGraph();
    while (s().past.length) s().undo();
    expect(s().nodes).toHaveLength(0);
    while (s().future.length) s().redo();
    expect(s().toGraph()).toEqual(full);
  });

  it("forgets the redo steps after a new change", () => {
    buildSmall();
    s().undo();
    expect(s().future).toHaveLength(1);
    s().addNode("math.abs", { x: 0, y: 0 });
    expect(s().future).toHaveLength(0);
  });

  it("coalesces typing into one param into one undo step", () => {
    const { fast } = buildSmall();
    const before = s().past.length;
    s().setNodeParam(fast, "value", 1);
    s().setNodeParam(fast, "value", 12);
    s().setNodeParam(fast, "value", 120);
    expect(s().past.length).toBe(before + 1);
    s().undo();
    expect(s().nodes.find((n) => n.id === fast)!.data.params.value).toBeUndefined();
  });

  it("copies and pastes the selection with new ids and its inner edges", () => {
    const { speed, fast } = buildSmall();
    s().select([speed, fast]);
    const clip = s().copySelection()!;
    expect(clip.nodes.map((n) => n.id)).toEqual([speed, fast]);
    expect(clip.edges).toEqual([{ from: speed, to: fast, port: "a", implicit: false }]);
    const ids = s().paste(clip);
    expect(ids).toEqual(["field_2", "compare_2"]);
    expect(s().edges.some((e) => e.source === "field_2" && e.target === "compare_2" && e.targetHandle === "a")).toBe(true);
    expect(s().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(ids);
    const pasted = s().nodes.find((n) => n.id === "field_2")!;
    expect(pasted.position).toEqual({ x: 240, y: 40 });
    s().undo();
    expect(s().nodes.map((n) => n.id)).not.toContain("field_2");
  });

  it("renames a node and the edges that name it", () => {
    const { fast } = buildSmall();
    expect(s().renameNode(fast, "Bad id")).toMatch(/lower-case/);
    expect(s().renameNode(fast, "field_1")).toMatch(/already used/);
    expect(s().renameNode(fast, "too_fast")).toBeNull();
    const g = s().toGraph();
    expect(g.edges).toContainEqual({ from: "field_1", to: "too_fast.a" });
    expect(g.edges).toContainEqual({ from: "too_fast", to: "alert_1.trigger" });
  });

  it("adds a value port to an action, which a connection then uses", () => {
    const { speed, alarm } = buildSmall();
    expect(s().addValuePort(speed, "x")).toMatch(/no value ports/);
    expect(s().addValuePort(alarm, "trigger")).toMatch(/already/);
    expect(s().addValuePort(alarm, "speed_kmh")).toBeNull();
    expect(s().nodes.find((n) => n.id === alarm)!.data.extraPorts).toEqual(["speed_kmh"]);
    expect(s().connect({ source: speed, target: alarm, targetHandle: "speed_kmh" }).ok).toBe(true);
    expect(s().nodes.find((n) => n.id === alarm)!.data.extraPorts).toEqual([]);
    expect(s().toGraph().edges).toContainEqual({ from: "field_1", to: "alert_1.speed_kmh" });
  });

  it("makes a value port named after the node dropped on an action's + value handle", () => {
    const { speed, fast, alarm } = buildSmall();
    expect(s().connect({ source: speed, target: alarm, targetHandle: "+value" }).ok).toBe(true);
    s().addValuePort(alarm, "compare_1");
    expect(s().connect({ source: fast, target: alarm, targetHandle: "+value" }).ok).toBe(true);
    expect(s().toGraph().edges.slice(-2)).toEqual([
      { from: "field_1", to: "alert_1.field_1" },
      { from: "compare_1", to: "alert_1.compare_1_2" },
    ]);
  });

  it("renames a blueprint parameter and every binding to it", () => {
    const { fast } = buildSmall();
    s().setGraphParams({ type: "object", properties: { limit: { type: "number", default: 8 } } });
    s().setNodeParam(fast, "value", { $param: "limit" });
    expect(s().renameGraphParam("limit", "speed_limit")).toBeNull();
    expect(Object.keys(s().meta.params!.properties!)).toEqual(["speed_limit"]);
    expect(s().nodes.find((n) => n.id === fast)!.data.params.value).toEqual({ $param: "speed_limit" });
  });

  it("tracks unsaved changes, and positions count as changes", () => {
    s().load({ graph: warehouse as unknown as GraphDoc });
    expect(isDirty(s())).toBe(false);
    s().checkpoint();
    s().onNodesChange([{ type: "position", id: "speed", position: { x: 1, y: 1 } }]);
    expect(isDirty(s())).toBe(true);
    expect(s().toGraph().ui?.speed).toEqual({ x: 1, y: 1 });
    s().markSaved();
    expect(isDirty(s())).toBe(false);
    s().undo();
    expect(s().toGraph().ui?.speed).toEqual({ x: 220, y: 95 });
  });

  it("does not count selecting as a change", () => {
    s().load({ graph: warehouse as unknown as GraphDoc });
    s().onNodesChange([{ type: "select", id: "speed", selected: true }]);
    s().select(["zone"]);
    expect(isDirty(s())).toBe(false);
    expect(s().past).toHaveLength(0);
  });

  it("loads a built-in graph and writes it back unchanged", () => {
    s().load({ graph: warehouse as unknown as GraphDoc });
    expect(s().toGraph()).toEqual(warehouse);
  });

  it("lays the graph out automatically, as one undo step", () => {
    s().load({ graph: warehouse as unknown as GraphDoc });
    s().autoLayout();
    const xs = Object.fromEntries(s().nodes.map((n) => [n.id, n.position.x]));
    expect(xs.forklift).toBeLessThan(xs.speed);
    expect(xs.speed).toBeLessThan(xs.overspeed);
    s().undo();
    expect(s().toGraph()).toEqual(warehouse);
  });

  it("makes fresh ids that fit the id pattern", () => {
    expect(freshId("model.onnx", new Set(["onnx_1"]))).toBe("onnx_2");
    expect(freshId("9x", new Set())).toBe("n_9x_1");
  });
});
