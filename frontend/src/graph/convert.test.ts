import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import registryJson from "../__fixtures__/node-types.json";
import warehouse from "../__fixtures__/warehouse-graph.json";
import type { Registry } from "../registry/types";
import type { GraphDoc } from "./types";
import { flowToGraph, graphToFlow } from "./convert";

const registry = registryJson as unknown as Registry;

function builtinGraphs(): [string, GraphDoc][] {
  const dir = fileURLToPath(new URL("../../../blueprints/builtin/", import.meta.url));
  const out: [string, GraphDoc][] = [["fixture", warehouse as unknown as GraphDoc]];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const file = `${dir}${name}/graph.json`;
    if (existsSync(file)) out.push([name, JSON.parse(readFileSync(file, "utf8"))]);
  }
  return out;
}

describe("graph ⇄ React Flow", () => {
  it.each(builtinGraphs())("round-trips the %s graph unchanged", (_name, graph) => {
    const { nodes, edges, meta } = graphToFlow(graph, registry);
    expect(flowToGraph(nodes, edges, meta)).toEqual(graph);
  });

  it("draws each node with its flow kind, params and position", () => {
    const { nodes } = graphToFlow(warehouse as unknown as GraphDoc, registry);
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
    expect(byId.forklift.type).toBe("source");
    expect(byId.limit_aisle.type).toBe("source"); // a const: no inputs
    expect(byId.overspeed.type).toBe("operator");
    expect(byId.alert_overspeed.type).toBe("action");
    expect(byId.speed.position).toEqual({ x: 220, y: 95 });
    expect(byId.speed.data).toMatchObject({ kind: "field", params: { path: "speed_kmh" }, label: "Speed (km/h)" });
  });

  it("maps `to: node` to the node's only port and writes it back without a port", () => {
    const graph = warehouse as unknown as GraphDoc;
    const { nodes, edges, meta } = graphToFlow(graph, registry);
    const e = edges.find((x) => x.source === "forklift" && x.target === "speed")!;
    expect(e.targetHandle).toBe("in");
    expect(e.data?.implicit).toBe(true);
    const explicit = edges.find((x) => x.target === "overspeed" && x.targetHandle === "a")!;
    expect(explicit.data?.implicit).toBe(false);
    expect(flowToGraph(nodes, edges, meta).edges).toContainEqual({ from: "forklift", to: "speed" });
  });

  it("writes moved positions into ui, and keeps other ui keys", () => {
    const graph: GraphDoc = {
      format: "aiot.graph/v1",
      nodes: [{ id: "a", type: "const", params: { value: 1 } }],
      edges: [],
      ui: { a: { x: 1, y: 2, collapsed: true } },
    };
    const { nodes, edges, meta } = graphToFlow(graph, registry);
    nodes[0] = { ...nodes[0], position: { x: 10.4, y: 20.6 } };
    expect(flowToGraph(nodes, edges, meta).ui).toEqual({ a: { x: 10, y: 21, collapsed: true } });
  });

  it("lays out a graph that has no positions", () => {
    const graph: GraphDoc = {
      format: "aiot.graph/v1",
      nodes: [
        { id: "a", type: "const", params: { value: 1 } },
        { id: "b", type: "math.abs" },
      ],
      edges: [{ from: "a", to: "b" }],
    };
    const { nodes } = graphToFlow(graph, registry);
    expect(nodes[1].position.x).toBeGreaterThan(nodes[0].position.x);
  });

  it("keeps a node of an unknown type, with the ports its edges name", () => {
    const graph: GraphDoc = {
      format: "aiot.graph/v1",
      nodes: [
        { id: "a", type: "const", params: { value: 1 } },
        { id: "b", type: "no.such.type" },
      ],
      edges: [{ from: "a", to: "b.x" }],
      ui: { a: { x: 0, y: 0 }, b: { x: 100, y: 0 } },
    };
    const { nodes, edges, meta } = graphToFlow(graph, registry);
    expect(nodes[1].type).toBe("operator");
    expect(flowToGraph(nodes, edges, meta)).toEqual(graph);
  });
});
