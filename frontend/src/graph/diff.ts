// What changed between two versions' graphs: nodes, edges and blueprint parameters.
// Positions (`ui`) never change what a graph computes, so they are left out.
import type { GraphDoc, GraphNode, JsonSchema } from "./types";

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface NodeChange {
  id: string;
  changes: FieldChange[];
}

export interface GraphDiff {
  nodes: { added: GraphNode[]; removed: GraphNode[]; changed: NodeChange[] };
  edges: { added: string[]; removed: string[] };
  params: { added: string[]; removed: string[]; changed: { name: string; changes: FieldChange[] }[] };
  meta: FieldChange[];
}

/** A stable JSON text (keys sorted), so that key order never counts as a change. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

function same(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function objectChanges(before: Record<string, unknown>, after: Record<string, unknown>, prefix = ""): FieldChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => !same(before[k], after[k]))
    .map((k) => ({ field: prefix + k, before: before[k], after: after[k] }));
}

function nodeChanges(a: GraphNode, b: GraphNode): FieldChange[] {
  const out: FieldChange[] = [];
  for (const f of ["type", "label", "description"] as const) {
    if (!same(a[f], b[f])) out.push({ field: f, before: a[f], after: b[f] });
  }
  out.push(...objectChanges(a.params ?? {}, b.params ?? {}, "params."));
  return out;
}

export function diffGraphs(before: GraphDoc, after: GraphDoc): GraphDiff {
  const aNodes = new Map(before.nodes.map((n) => [n.id, n]));
  const bNodes = new Map(after.nodes.map((n) => [n.id, n]));
  const changed: NodeChange[] = [];
  for (const [id, b] of bNodes) {
    const a = aNodes.get(id);
    if (!a) continue;
    const changes = nodeChanges(a, b);
    if (changes.length) changed.push({ id, changes });
  }
  const edgeKey = (e: { from: string; to: string }) => `${e.from} → ${e.to}`;
  const aEdges = new Set(before.edges.map(edgeKey));
  const bEdges = new Set(after.edges.map(edgeKey));
  const aParams: Record<string, JsonSchema> = before.params?.properties ?? {};
  const bParams: Record<string, JsonSchema> = after.params?.properties ?? {};
  return {
    nodes: {
      added: after.nodes.filter((n) => !aNodes.has(n.id)),
      removed: before.nodes.filter((n) => !bNodes.has(n.id)),
      changed,
    },
    edges: {
      added: [...bEdges].filter((e) => !aEdges.has(e)),
      removed: [...aEdges].filter((e) => !bEdges.has(e)),
    },
    params: {
      added: Object.keys(bParams).filter((k) => !(k in aParams)),
      removed: Object.keys(aParams).filter((k) => !(k in bParams)),
      changed: Object.keys(bParams)
        .filter((k) => k in aParams)
        .map((name) => ({ name, changes: objectChanges(aParams[name], bParams[name]) }))
        .filter((c) => c.changes.length > 0),
    },
    meta: objectChanges(
      { name: before.name, description: before.description },
      { name: after.name, description: after.description },
    ),
  };
}

export function isEmptyDiff(d: GraphDiff): boolean {
  return (
    !d.nodes.added.length &&
    !d.nodes.removed.length &&
    !d.nodes.changed.length &&
    !d.edges.added.length &&
    !d.edges.removed.length &&
    !d.params.added.length &&
    !d.params.removed.length &&
    !d.params.changed.length &&
    !d.meta.length
  );
}
