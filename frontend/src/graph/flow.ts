// React Flow's view of a rule graph: a typed union of node kinds and edges port to port.
import type { Edge, Node } from "@xyflow/react";
import type { NodeTypeSpec } from "../registry/types";

export type RuleData = {
  /** the registry type, e.g. "compare" */
  kind: string;
  params: Record<string, unknown>;
  label?: string;
  description?: string;
  /** value ports the user added to an action and has not connected yet */
  extraPorts: string[];
  /** whether the document wrote `params` for this node (kept as it was on the way back) */
  hadParams: boolean;
};

export type SourceFlowNode = Node<RuleData, "source">;
export type OperatorFlowNode = Node<RuleData, "operator">;
export type ActionFlowNode = Node<RuleData, "action">;
export type RuleFlowNode = SourceFlowNode | OperatorFlowNode | ActionFlowNode;
export type FlowKind = RuleFlowNode["type"];

export type RuleEdgeData = {
  /** written as `to: "node"` (no port) in the document */
  implicit: boolean;
};
export type RuleFlowEdge = Edge<RuleEdgeData>;

/** How a registry type is drawn: nodes without inputs, operators, actions (with value ports). */
export function flowKindOf(spec: NodeTypeSpec | undefined): FlowKind {
  if (!spec) return "operator";
  if (spec.open_ports || spec.output?.kind === "action") return "action";
  if (spec.inputs.length === 0 && !spec.variadic) return "source";
  return "operator";
}

export function edgeTo(edge: Pick<RuleFlowEdge, "target" | "targetHandle" | "data">): string {
  return edge.data?.implicit || !edge.targetHandle ? edge.target : `${edge.target}.${edge.targetHandle}`;
}

export function edgeId(from: string, to: string, taken?: Set<string>): string {
  let id = `${from}->${to}`;
  if (taken) {
    let n = 2;
    while (taken.has(id)) id = `${from}->${to}#${n++}`;
    taken.add(id);
  }
  return id;
}
