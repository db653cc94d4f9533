// Auto-layout with dagre, left to right, sources first.
import dagre from "@dagrejs/dagre";

export interface LayoutNode {
  id: string;
  width?: number;
  height?: number;
}

export const DEFAULT_NODE_WIDTH = 190;
export const DEFAULT_NODE_HEIGHT = 64;

export function layoutGraph(
  nodes: LayoutNode[],
  edges: { source: string; target: string }[],
): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    g.setNode(n.id, { width: n.width ?? DEFAULT_NODE_WIDTH, height: n.height ?? DEFAULT_NODE_HEIGHT });
  }
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out: Record<string, { x: number; y: number }> = {};
  for (const n of nodes) {
    const p = g.node(n.id);
    const w = n.width ?? DEFAULT_NODE_WIDTH;
    const h = n.height ?? DEFAULT_NODE_HEIGHT;
    out[n.id] = { x: Math.round(p.x - w / 2), y: Math.round(p.y - h / 2) };
  }
  return out;
}
