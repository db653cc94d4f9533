// Graph document ⇄ React Flow. Keeps node ids, types, params, labels, edges `from`/`to` as
// written, and writes positions into the document's `ui` map.
import type { Registry } from "../registry/types";
import { implicitPort, specOf } from "../registry/ports";
import { edgeId, edgeTo, flowKindOf, type RuleFlowEdge, type RuleFlowNode } from "./flow";
import { layoutGraph } from "./layout";
import { splitTarget, type GraphDoc } from "./types";

/** Everything in the document that is not nodes, edges or positions. */
export type DocMeta = Omit<GraphDoc, "nodes" | "edges" | "ui"> & { ui?: GraphDoc["ui"] };

export interface FlowGraph {
  nodes: RuleFlowNode[];
  edges: RuleFlowEdge[];
  meta: DocMeta;
}

export function graphToFlow(doc: GraphDoc, registry: Registry): FlowGraph {
  const { nodes: gNodes = [], edges: gEdges = [], ui = {}, ...rest } = doc;
  const missing = gNodes.some((n) => !ui[n.id] || typeof ui[n.id].x !== "number");
  const auto = missing
    ? layoutGraph(
        gNodes.map((n) => ({ id: n.id })),
        gEdges.map((e) => ({ source: e.from, target: splitTarget(e.to)[0] })),
      )
    : {};
  const nodes: RuleFlowNode[] = gNodes.map((n) => {
    const spec = specOf(registry, n.type);
    const pos = ui[n.id] && typeof ui[n.id].x === "number" ? ui[n.id] : auto[n.id] ?? { x: 0, y: 0 };
    const data = {
      kind: n.type,
      params: structuredClone(n.params ?? {}),
      extraPorts: [],
      hadParams: n.params !== undefined,
      ...(n.label !== undefined ? { label: n.label } : {}),
      ...(n.description !== undefined ? { description: n.description } : {}),
    };
    return { id: n.id, type: flowKindOf(spec), position: { x: pos.x, y: pos.y }, data } as RuleFlowNode;
  });
  const taken = new Set<string>();
  const edges: RuleFlowEdge[] = gEdges.map((e) => {
    const [target, port] = splitTarget(e.to);
    const node = gNodes.find((n) => n.id === target);
    const handle = port ?? implicitPort(node ? specOf(registry, node.type) : undefined) ?? "in";
    return {
      id: edgeId(e.from, e.to, taken),
      source: e.from,
      sourceHandle: "out",
      target,
      targetHandle: handle,
      data: { implicit: port === null },
    };
  });
  return { nodes, edges, meta: { ...rest, ui } };
}

export function flowToGraph(nodes: RuleFlowNode[], edges: RuleFlowEdge[], meta: DocMeta): GraphDoc {
  const { ui: oldUi = {}, ...rest } = meta;
  const ui: NonNullable<GraphDoc["ui"]> = {};
  for (const n of nodes) {
    ui[n.id] = { ...(oldUi[n.id] ?? {}), x: Math.round(n.position.x), y: Math.round(n.position.y) };
  }
  return {
    ...rest,
    format: "aiot.graph/v1",
    nodes: nodes.map((n) => {
      const d = n.data;
      const hasParams = d.hadParams || Object.keys(d.params).length > 0;
      return {
        id: n.id,
        type: d.kind,
        ...(d.label !== undefined ? { label: d.label } : {}),
        ...(d.description !== undefined ? { description: d.description } : {}),
        ...(hasParams ? { params: structuredClone(d.params) } : {}),
      };
    }),
    edges: edges.map((e) => ({ from: e.source, to: edgeTo(e) })),
    ui,
  };
}
