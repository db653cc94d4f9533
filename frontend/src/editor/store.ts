// The editor's one store: the graph being edited (as React Flow nodes and edges), the blueprint
// text around it, undo/redo history, validation problems and replay counts.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { createStore, useStore } from "zustand";
import type { Problem, Scenario } from "../api/types";
import { flowToGraph, graphToFlow, type DocMeta } from "../graph/convert";
import { edgeId, flowKindOf, type RuleFlowEdge, type RuleFlowNode } from "../graph/flow";
import { layoutGraph } from "../graph/layout";
import { isParamRef, NODE_ID, PARAM_NAME, type GraphDoc, type GraphNode, type JsonSchema } from "../graph/types";
import {
  checkConnection,
  isPortName,
  NEW_VALUE_PORT,
  specOf,
  valuePortName,
  type ConnectionLike,
  type ConnectionVerdict,
} from "../registry/ports";
import type { Registry } from "../registry/types";

const HISTORY_LIMIT = 100;
const COALESCE_MS = 1000;

interface Snapshot {
  nodes: RuleFlowNode[];
  edges: RuleFlowEdge[];
  meta: DocMeta;
  readme: string;
  scenarios: Scenario[];
}

export interface ClipboardPayload {
  format: "aiot.clipboard/v1";
  nodes: (GraphNode & { x: number; y: number })[];
  edges: { from: string; to: string; port: string; implicit: boolean }[];
}

export interface Counts {
  evaluated: number;
  fired: number;
}

export interface EditorState {
  registry: Registry | null;
  nodes: RuleFlowNode[];
  edges: RuleFlowEdge[];
  meta: DocMeta;
  readme: string;
  scenarios: Scenario[];
  past: Snapshot[];
  future: Snapshot[];
  /** bumps on every change of what the graph computes (drives validation) */
  revision: number;
  /** bumps on every change that saving would keep, positions included */
  editRevision: number;
  savedRevision: number;
  problems: Problem[];
  counts: Record<string, Counts>;
  pasteCount: number;

  setRegistry(registry: Registry): void;
  load(doc: { graph: GraphDoc; readme?: string; scenarios?: Scenario[] }): void;
  markSaved(): void;
  toGraph(): GraphDoc;
  checkpoint(key?: string): void;
  onNodesChange(changes: NodeChange<RuleFlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<RuleFlowEdge>[]): void;
  addNode(type: string, position: { x: number; y: number }): string;
  connect(connection: ConnectionLike): ConnectionVerdict;
  isValidConnection(connection: ConnectionLike): boolean;
  deleteSelected(): void;
  deleteElements(nodeIds: string[], edgeIds?: string[]): void;
  updateNodeData(id: string, patch: Partial<Pick<RuleFlowNode["data"], "label" | "description">>): void;
  setNodeParam(id: string, name: string, value: unknown): void;
  renameNode(id: string, newId: string): string | null;
  addValuePort(id: string, name: string): string | null;
  autoLayout(): void;
  setMeta(patch: Partial<Pick<DocMeta, "name" | "description">>): void;
  setGraphParams(schema: JsonSchema): void;
  renameGraphParam(from: string, to: string): string | null;
  setReadme(readme: string): void;
  /** `key`: changes with the same key in quick succession are one undo step (typing a name). */
  setScenarios(scenarios: Scenario[], key?: string): void;
  select(nodeIds: string[]): void;
  copySelection(): ClipboardPayload | null;
  paste(payload: ClipboardPayload): string[];
  undo(): void;
  redo(): void;
  setProblems(problems: Problem[]): void;
  setCounts(counts: Record<string, Counts>): void;
}

export const isDirty = (s: Pick<EditorState, "editRevision" | "savedRevision">) => s.editRevision !== s.savedRevision;

function snapshotOf(s: EditorState): Snapshot {
  return { nodes: s.nodes, edges: s.edges, meta: s.meta, readme: s.readme, scenarios: s.scenarios };
}

/** A fresh node id from the type's last word: "action.alert" → "alert_1". */
export function freshId(type: string, taken: Set<string>): string {
  let base = (type.split(".").pop() ?? "node").toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (!/^[a-z]/.test(base)) base = "n_" + base;
  base = base.slice(0, 56);
  for (let i = 1; ; i++) {
    const id = `${base}_${i}`;
    if (!taken.has(id)) return id;
  }
}

function initialParams(registry: Registry | null, type: string): Record<string, unknown> {
  const schema = registry ? specOf(registry, type)?.params_schema : undefined;
  const out: Record<string, unknown> = {};
  for (const name of schema?.required ?? []) {
    const prop = schema?.properties?.[name];
    if (!prop) continue;
    if (prop.default !== undefined) out[name] = structuredClone(prop.default);
    else if (prop.type === "object") out[name] = {};
  }
  return out;
}

function renameRefs(value: unknown, from: string, to: string): unknown {
  if (isParamRef(value)) return value.$param === from ? { $param: to } : value;
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, from, to));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameRefs(v, from, to)]));
  }
  return value;
}

export function createEditorStore() {
  let lastKey: string | undefined;
  let lastAt = 0;

  return createStore<EditorState>()((set, get) => {
    /** Records the current state for undo, then applies a change. */
    const change = (
      update: (s: EditorState) => Partial<EditorState>,
      opts: { semantic?: boolean; key?: string } = {},
    ) => {
      const s = get();
      const now = Date.now();
      const coalesce = opts.key !== undefined && opts.key === lastKey && now - lastAt < COALESCE_MS;
      lastKey = opts.key;
      lastAt = now;
      const past = coalesce ? s.past : [...s.past, snapshotOf(s)].slice(-HISTORY_LIMIT);
      set({
        ...update(s),
        past,
        future: [],
        editRevision: s.editRevision + 1,
        revision: opts.semantic === false ? s.revision : s.revision + 1,
      });
    };

    const restore = (snap: Snapshot, s: EditorState): Partial<EditorState> => ({
      ...snap,
      revision: s.revision + 1,
      editRevision: s.editRevision + 1,
    });

    return {
      registry: null,
      nodes: [],
      edges: [],
      meta: { format: "aiot.graph/v1", params: { type: "object", properties: {} } },
      readme: "",
      scenarios: [],
      past: [],
      future: [],
      revision: 0,
      editRevision: 0,
      savedRevision: 0,
      problems: [],
      counts: {},
      pasteCount: 0,

      setRegistry: (registry) => set({ registry }),

      load: ({ graph, readme = "", scenarios = [] }) => {
        const registry = get().registry;
        if (!registry) throw new Error("load the node-type registry first");
        const { nodes, edges, meta } = graphToFlow(graph, registry);
        const s = get();
        lastKey = undefined;
        set({
          nodes,
          edges,
          meta,
          readme,
          scenarios,
          past: [],
          future: [],
          problems: [],
          counts: {},
          pasteCount: 0,
          revision: s.revision + 1,
          editRevision: s.editRevision + 1,
          savedRevision: s.editRevision + 1,
        });
      },

      markSaved: () => set({ savedRevision: get().editRevision }),

      toGraph: () => {
        const s = get();
        return flowToGraph(s.nodes, s.edges, s.meta);
      },

      checkpoint: (key) => {
        const s = get();
        if (key !== undefined && key === lastKey && Date.now() - lastAt < COALESCE_MS) return;
        lastKey = key;
        lastAt = Date.now();
        set({ past: [...s.past, snapshotOf(s)].slice(-HISTORY_LIMIT), future: [] });
      },

      onNodesChange: (changes) => {
        const s = get();
        const moved = changes.some((c) => c.type === "position" && c.position);
        const removed = changes.some((c) => c.type === "remove");
        const nodes = applyNodeChanges(changes, s.nodes) as RuleFlowNode[];
        if (removed) {
          const ids = new Set(nodes.map((n) => n.id));
          change(() => ({ nodes, edges: s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) }));
        } else if (moved) {
          // history was recorded at drag start (checkpoint)
          set({ nodes, editRevision: s.editRevision + 1 });
        } else {
          set({ nodes });
        }
      },

      onEdgesChange: (changes) => {
        const s = get();
        const edges = applyEdgeChanges(changes, s.edges) as RuleFlowEdge[];
        if (changes.some((c) => c.type === "remove")) change(() => ({ edges }));
        else set({ edges });
      },

      addNode: (type, position) => {
        const s = get();
        const id = freshId(type, new Set(s.nodes.map((n) => n.id)));
        const spec = s.registry ? specOf(s.registry, type) : undefined;
        const node = {
          id,
          type: flowKindOf(spec),
          position: { x: Math.round(position.x), y: Math.round(position.y) },
          selected: true,
          data: { kind: type, params: initialParams(s.registry, type), extraPorts: [], hadParams: true },
        } as RuleFlowNode;
        change((st) => ({
          nodes: [...st.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node],
          edges: st.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        }));
        return id;
      },

      isValidConnection: (connection) => {
        const s = get();
        return !!s.registry && checkConnection(s.registry, s.nodes, s.edges, connection).ok;
      },

      connect: (connection) => {
        const s = get();
        if (!s.registry) return { ok: false, reason: "no registry" };
        const verdict = checkConnection(s.registry, s.nodes, s.edges, connection);
        if (!verdict.ok) return verdict;
        const source = connection.source!;
        const target = connection.target!;
        let port = connection.targetHandle!;
        if (port === NEW_VALUE_PORT) {
          const node = s.nodes.find((n) => n.id === target)!;
          const spec = specOf(s.registry, node.data.kind);
          port = valuePortName(
            source,
            new Set([
              ...(spec?.inputs.map((p) => p.name) ?? []),
              ...node.data.extraPorts,
              ...s.edges.filter((e) => e.target === target).map((e) => e.targetHandle ?? ""),
            ]),
          );
        }
        const edge: RuleFlowEdge = {
          id: edgeId(source, `${target}.${port}`, new Set(s.edges.map((e) => e.id))),
          source,
          sourceHandle: "out",
          target,
          targetHandle: port,
          data: { implicit: false },
        };
        change((st) => ({
          edges: [...st.edges, edge],
          nodes: st.nodes.map((n) =>
            n.id === target && n.data.extraPorts.includes(port)
              ? ({ ...n, data: { ...n.data, extraPorts: n.data.extraPorts.filter((p) => p !== port) } } as RuleFlowNode)
              : n,
          ),
        }));
        return verdict;
      },

      deleteElements: (nodeIds, edgeIds = []) => {
        const ids = new Set(nodeIds);
        const eids = new Set(edgeIds);
        const s = get();
        if (!s.nodes.some((n) => ids.has(n.id)) && !s.edges.some((e) => eids.has(e.id))) return;
        change((st) => ({
          nodes: st.nodes.filter((n) => !ids.has(n.id)),
          edges: st.edges.filter((e) => !eids.has(e.id) && !ids.has(e.source) && !ids.has(e.target)),
        }));
      },

      deleteSelected: () => {
        const s = get();
        get().deleteElements(
          s.nodes.filter((n) => n.selected).map((n) => n.id),
          s.edges.filter((e) => e.selected).map((e) => e.id),
        );
      },

      updateNodeData: (id, patch) => {
        change(
          (s) => ({
            nodes: s.nodes.map((n) => {
              if (n.id !== id) return n;
              const data = { ...n.data, ...patch };
              for (const k of Object.keys(patch) as (keyof typeof patch)[]) if (patch[k] === undefined) delete data[k];
              return { ...n, data } as RuleFlowNode;
            }),
          }),
          { key: `data:${id}:${Object.keys(patch).join(",")}`, semantic: false },
        );
      },

      setNodeParam: (id, name, value) => {
        change(
          (s) => ({
            nodes: s.nodes.map((n) => {
              if (n.id !== id) return n;
              const params = { ...n.data.params };
              if (value === undefined) delete params[name];
              else params[name] = value;
              return { ...n, data: { ...n.data, params } } as RuleFlowNode;
            }),
          }),
          { key: `param:${id}:${name}` },
        );
      },

      renameNode: (id, newId) => {
        const s = get();
        if (id === newId) return null;
        if (!NODE_ID.test(newId)) return "An id starts with a lower-case letter, then letters, digits or _ (64 at most).";
        if (s.nodes.some((n) => n.id === newId)) return `${newId} is already used.`;
        change((st) => {
          const ui = { ...(st.meta.ui ?? {}) };
          if (ui[id]) {
            ui[newId] = ui[id];
            delete ui[id];
          }
          const taken = new Set<string>();
          return {
            meta: { ...st.meta, ui },
            nodes: st.nodes.map((n) => (n.id === id ? ({ ...n, id: newId } as RuleFlowNode) : n)),
            edges: st.edges.map((e) => {
              const source = e.source === id ? newId : e.source;
              const target = e.target === id ? newId : e.target;
              const to = e.data?.implicit ? target : `${target}.${e.targetHandle}`;
              return { ...e, id: edgeId(source, to, taken), source, target };
            }),
            problems: st.problems.map((p) => (p.node === id ? { ...p, node: newId } : p)),
            counts: {},
          };
        });
        return null;
      },

      addValuePort: (id, name) => {
        const s = get();
        const node = s.nodes.find((n) => n.id === id);
        if (!node) return "no such node";
        const spec = s.registry ? specOf(s.registry, node.data.kind) : undefined;
        if (!spec?.open_ports) return "this node takes no value ports";
        if (!isPortName(name)) return "A port name starts with a lower-case letter, then letters, digits or _.";
        const taken = new Set([
          ...spec.inputs.map((p) => p.name),
          ...node.data.extraPorts,
          ...s.edges.filter((e) => e.target === id).map((e) => e.targetHandle ?? ""),
        ]);
        if (taken.has(name)) return `${name} is already a port of ${id}.`;
        change(
          (st) => ({
            nodes: st.nodes.map((n) =>
              n.id === id ? ({ ...n, data: { ...n.data, extraPorts: [...n.data.extraPorts, name] } } as RuleFlowNode) : n,
            ),
          }),
          { semantic: false },
        );
        return null;
      },

      autoLayout: () => {
        const s = get();
        const pos = layoutGraph(
          s.nodes.map((n) => ({ id: n.id, width: n.measured?.width, height: n.measured?.height })),
          s.edges,
        );
        change((st) => ({ nodes: st.nodes.map((n) => ({ ...n, position: pos[n.id] ?? n.position })) }), {
          semantic: false,
        });
      },

      setMeta: (patch) =>
        change((s) => ({ meta: { ...s.meta, ...patch } }), { key: `meta:${Object.keys(patch).join(",")}`, semantic: false }),

      setGraphParams: (schema) => change((s) => ({ meta: { ...s.meta, params: schema } }), { key: "graph-params" }),

      renameGraphParam: (from, to) => {
        const s = get();
        const props = s.meta.params?.properties ?? {};
        if (from === to) return null;
        if (!PARAM_NAME.test(to)) return "A parameter name starts with a letter or _, then letters, digits or _.";
        if (to in props) return `${to} is already a parameter.`;
        change((st) => {
          const old = st.meta.params?.properties ?? {};
          const properties = Object.fromEntries(Object.entries(old).map(([k, v]) => [k === from ? to : k, v]));
          return {
            meta: { ...st.meta, params: { ...(st.meta.params ?? { type: "object" }), properties } },
            // the scenarios' values for it follow the new name
            scenarios: st.scenarios.map((sc) =>
              sc.params && from in sc.params
                ? { ...sc, params: Object.fromEntries(Object.entries(sc.params).map(([k, v]) => [k === from ? to : k, v])) }
                : sc,
            ),
            nodes: st.nodes.map((n) => {
              const params = renameRefs(n.data.params, from, to) as Record<string, unknown>;
              return JSON.stringify(params) === JSON.stringify(n.data.params)
                ? n
                : ({ ...n, data: { ...n.data, params } } as RuleFlowNode);
            }),
          };
        });
        return null;
      },

      setReadme: (readme) => change(() => ({ readme }), { key: "readme", semantic: false }),
      setScenarios: (scenarios, key) => change(() => ({ scenarios }), { semantic: false, key }),

      select: (nodeIds) => {
        const ids = new Set(nodeIds);
        set((s) => ({
          nodes: s.nodes.map((n) => (!!n.selected === ids.has(n.id) ? n : { ...n, selected: ids.has(n.id) })),
          edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        }));
      },

      copySelection: () => {
        const s = get();
        const chosen = s.nodes.filter((n) => n.selected);
        if (!chosen.length) return null;
        const ids = new Set(chosen.map((n) => n.id));
        return {
          format: "aiot.clipboard/v1",
          nodes: chosen.map((n) => ({
            id: n.id,
            type: n.data.kind,
            params: structuredClone(n.data.params),
            ...(n.data.label !== undefined ? { label: n.data.label } : {}),
            ...(n.data.description !== undefined ? { description: n.data.description } : {}),
            x: n.position.x,
            y: n.position.y,
          })),
          edges: s.edges
            .filter((e) => ids.has(e.source) && ids.has(e.target))
            .map((e) => ({ from: e.source, to: e.target, port: e.targetHandle ?? "", implicit: !!e.data?.implicit })),
        };
      },

      paste: (payload) => {
        const s = get();
        if (payload?.format !== "aiot.clipboard/v1" || !payload.nodes.length) return [];
        const taken = new Set(s.nodes.map((n) => n.id));
        const rename = new Map<string, string>();
        for (const n of payload.nodes) {
          const id = taken.has(n.id) ? freshId(n.type, taken) : n.id;
          taken.add(id);
          rename.set(n.id, id);
        }
        const offset = 40 * (s.pasteCount + 1);
        const nodes = payload.nodes.map(
          (n) =>
            ({
              id: rename.get(n.id)!,
              type: flowKindOf(s.registry ? specOf(s.registry, n.type) : undefined),
              position: { x: n.x + offset, y: n.y + offset },
              selected: true,
              data: {
                kind: n.type,
                params: structuredClone(n.params ?? {}),
                extraPorts: [],
                hadParams: true,
                ...(n.label !== undefined ? { label: n.label } : {}),
                ...(n.description !== undefined ? { description: n.description } : {}),
              },
            }) as RuleFlowNode,
        );
        const edgeIds = new Set(s.edges.map((e) => e.id));
        const edges: RuleFlowEdge[] = payload.edges
          .filter((e) => rename.has(e.from) && rename.has(e.to))
          .map((e) => {
            const source = rename.get(e.from)!;
            const target = rename.get(e.to)!;
            return {
              id: edgeId(source, e.implicit ? target : `${target}.${e.port}`, edgeIds),
              source,
              sourceHandle: "out",
              target,
              targetHandle: e.port,
              data: { implicit: e.implicit },
            };
          });
        change((st) => ({
          nodes: [...st.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...nodes],
          edges: [...st.edges, ...edges],
          pasteCount: st.pasteCount + 1,
        }));
        return nodes.map((n) => n.id);
      },

      undo: () => {
        const s = get();
        const prev = s.past[s.past.length - 1];
        if (!prev) return;
        lastKey = undefined;
        set({ ...restore(prev, s), past: s.past.slice(0, -1), future: [...s.future, snapshotOf(s)] });
      },

      redo: () => {
        const s = get();
        const next = s.future[s.future.length - 1];
        if (!next) return;
        lastKey = undefined;
        set({ ...restore(next, s), future: s.future.slice(0, -1), past: [...s.past, snapshotOf(s)] });
      },

      setProblems: (problems) => set({ problems }),
      setCounts: (counts) => set({ counts }),
    };
  });
}

export type EditorStore = ReturnType<typeof createEditorStore>;

/** The app's editor store. */
export const editorStore = createEditorStore();

export function useEditor<T>(selector: (s: EditorState) => T): T {
  return useStore(editorStore, selector);
}
