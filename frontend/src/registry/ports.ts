// Ports and connection rules, derived only from the registry the API serves: its inputs,
// variadic and open ports, output kinds and `compatibility` table. No type rule is written here.
import type { NodeTypeSpec, Registry } from "./types";

export const OUTPUT_HANDLE = "out";
/** The handle on an action that makes a new value port, named after the node that feeds it. */
export const NEW_VALUE_PORT = "+value";
const PORT_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export interface InputPort {
  name: string;
  kind: string;
  required: boolean;
  /** an action's value port (any name) */
  open?: boolean;
  /** the next variadic slot, shown so that a new input can be connected */
  spare?: boolean;
}

export function isPortName(name: string): boolean {
  return PORT_NAME.test(name);
}

export function specOf(registry: Registry, type: string): NodeTypeSpec | undefined {
  return registry.node_types.find((t) => t.type === type);
}

function variadicIndex(prefix: string, port: string): number | null {
  if (!port.startsWith(prefix)) return null;
  const rest = port.slice(prefix.length);
  return /^[1-9][0-9]*$/.test(rest) ? Number(rest) : null;
}

/**
 * The input ports one node shows, given the ports its edges feed and the value ports the user
 * added to an action. Variadic ports run in1…inN with N = max(min, highest fed), plus one spare.
 */
export function inputPorts(spec: NodeTypeSpec | undefined, fed: string[], extra: string[] = []): InputPort[] {
  if (!spec) {
    // unknown type: keep whatever the edges name, so they stay drawn
    return [...new Set(fed)].map((name) => ({ name, kind: "any", required: false }));
  }
  const ports: InputPort[] = spec.inputs.map((p) => ({ name: p.name, kind: p.type.kind, required: p.required }));
  if (spec.variadic) {
    const { prefix, type, min } = spec.variadic;
    const highest = Math.max(0, ...fed.map((p) => variadicIndex(prefix, p) ?? 0));
    const count = Math.max(min, highest);
    for (let i = 1; i <= count; i++) ports.push({ name: `${prefix}${i}`, kind: type.kind, required: true });
    if (highest >= count) ports.push({ name: `${prefix}${count + 1}`, kind: type.kind, required: false, spare: true });
  }
  if (spec.open_ports) {
    const known = new Set(ports.map((p) => p.name));
    for (const name of [...fed, ...extra]) {
      if (!known.has(name) && isPortName(name)) {
        known.add(name);
        ports.push({ name, kind: spec.open_ports.type.kind, required: false, open: true });
      }
    }
  }
  return ports;
}

/** The kind of value arriving on `port` of a node of this type, or null if it has no such port. */
export function portKind(spec: NodeTypeSpec | undefined, port: string): string | null {
  if (!spec) return null;
  const declared = spec.inputs.find((p) => p.name === port);
  if (declared) return declared.type.kind;
  if (spec.variadic && variadicIndex(spec.variadic.prefix, port) !== null) return spec.variadic.type.kind;
  if (spec.open_ports && isPortName(port)) return spec.open_ports.type.kind;
  return null;
}

/**
 * The kinds a node's output may have. A type whose output the registry leaves open (null: a
 * field's kind comes from its source's schema, a const's from its value) yields one of the
 * scalar kinds that an `any` port accepts; the server's validation then checks the exact kind.
 */
export function outputKinds(registry: Registry, spec: NodeTypeSpec | undefined): string[] {
  if (!spec) return [];
  if (spec.output) return [spec.output.kind];
  return registry.compatibility.any ?? [];
}

export function accepts(registry: Registry, targetKind: string, sourceKinds: string[]): boolean {
  const ok = registry.compatibility[targetKind];
  if (!ok) return false; // e.g. an `action` output feeds nothing
  return sourceKinds.some((k) => ok.includes(k));
}

/** The port an edge `to: "node"` (no port) feeds: a node's only input. */
export function implicitPort(spec: NodeTypeSpec | undefined): string | null {
  if (!spec) return null;
  if (spec.inputs.length >= 1) return spec.inputs[0].name;
  if (spec.variadic) return `${spec.variadic.prefix}1`;
  return null;
}

export interface NodeLike {
  id: string;
  data: { kind: string };
}
export interface EdgeLike {
  source: string;
  target: string;
  targetHandle?: string | null;
}
export interface ConnectionLike {
  source: string | null;
  target: string | null;
  targetHandle?: string | null;
  sourceHandle?: string | null;
}

export type ConnectionVerdict = { ok: true } | { ok: false; reason: string };

function reaches(edges: EdgeLike[], from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of edges) if (e.source === id) stack.push(e.target);
  }
  return false;
}

/** Whether a new edge may be drawn: types by the registry, one edge per port, no cycle. */
export function checkConnection(
  registry: Registry,
  nodes: NodeLike[],
  edges: EdgeLike[],
  connection: ConnectionLike,
): ConnectionVerdict {
  const { source, target, targetHandle } = connection;
  if (!source || !target || !targetHandle) return { ok: false, reason: "pick an input port" };
  if (source === target) return { ok: false, reason: "a node cannot feed itself" };
  const from = nodes.find((n) => n.id === source);
  const to = nodes.find((n) => n.id === target);
  if (!from || !to) return { ok: false, reason: "unknown node" };
  const fromSpec = specOf(registry, from.data.kind);
  const toSpec = specOf(registry, to.data.kind);
  const newValue = targetHandle === NEW_VALUE_PORT;
  const want = newValue ? toSpec?.open_ports?.type.kind ?? null : portKind(toSpec, targetHandle);
  if (want === null) return { ok: false, reason: `${target} has no port ${targetHandle}` };
  if (!newValue && edges.some((e) => e.target === target && e.targetHandle === targetHandle)) {
    return { ok: false, reason: `${target}.${targetHandle} is already fed` };
  }
  const got = outputKinds(registry, fromSpec);
  if (!accepts(registry, want, got)) {
    return { ok: false, reason: `${target}.${targetHandle}: expect ${want}, got ${got.join(" or ") || "nothing"} from ${source}` };
  }
  if (reaches(edges, target, source)) return { ok: false, reason: "this edge would make a cycle" };
  return { ok: true };
}

/** A free value-port name for an action, after the node that feeds it: "speed", "speed_2"… */
export function valuePortName(source: string, taken: Set<string>): string {
  if (!taken.has(source)) return source;
  for (let i = 2; ; i++) {
    const name = `${source.slice(0, 60)}_${i}`;
    if (!taken.has(name)) return name;
  }
}
