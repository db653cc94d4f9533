// The side panel for the selected node: id, label, its params (a form generated from the
// type's params schema, each bindable to a blueprint parameter), its problems.
import { useEffect, useMemo, useState } from "react";
import { SchemaForm } from "../forms/SchemaForm";
import { checkConnection, inputPorts, specOf } from "../registry/ports";
import { editorStore, useEditor } from "./store";
import type { RuleFlowNode } from "../graph/flow";

/**
 * Connects an input port from a list of the nodes that may feed it (by the same registry check as
 * dragging a wire): the way to wire the graph from the keyboard.
 */
function ConnectFrom({ target, port }: { target: string; port: string }) {
  const registry = useEditor((s) => s.registry);
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  if (!registry) return null;
  const sources = nodes.filter((n) => checkConnection(registry, nodes, edges, { source: n.id, target, targetHandle: port }).ok);
  if (!sources.length) return <span className="muted">not connected</span>;
  return (
    <select
      aria-label={`Connect ${port} from`}
      value=""
      onChange={(e) => e.target.value && editorStore.getState().connect({ source: e.target.value, target, targetHandle: port, sourceHandle: "out" })}
      data-testid={`connect-${port}`}
    >
      <option value="">not connected: connect from…</option>
      {sources.map((n) => (
        <option key={n.id} value={n.id}>
          {n.id}
        </option>
      ))}
    </select>
  );
}

/** "/nodes/3/params/value/…" → "value" */
export function paramOfPath(path: string): string | null {
  const m = /^\/nodes\/\d+\/params\/([^/]+)/.exec(path);
  return m ? m[1].replace(/~1/g, "/").replace(/~0/g, "~") : null;
}

export function NodeInspector({ node, readOnly }: { node: RuleFlowNode; readOnly: boolean }) {
  const registry = useEditor((s) => s.registry);
  const paramsSchema = useEditor((s) => s.meta.params);
  const problemsAll = useEditor((s) => s.problems);
  const edges = useEditor((s) => s.edges);
  const fed = useMemo(
    () => edges.filter((e) => e.target === node.id).map((e) => `${e.targetHandle} ← ${e.source}`),
    [edges, node.id],
  );
  const spec = registry ? specOf(registry, node.data.kind) : undefined;
  const problems = problemsAll.filter((p) => p.node === node.id);
  const serverErrors: Record<string, string> = {};
  for (const p of problems) {
    const name = paramOfPath(p.path);
    if (name && !serverErrors[name]) serverErrors[name] = p.message;
  }
  const paramNames = Object.keys(paramsSchema?.properties ?? {});
  const [idText, setIdText] = useState(node.id);
  const [idError, setIdError] = useState<string | null>(null);
  useEffect(() => {
    setIdText(node.id);
    setIdError(null);
  }, [node.id]);
  const store = editorStore.getState();
  const ports = inputPorts(spec, fed.map((f) => f.split(" ← ")[0]), node.data.extraPorts);

  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head">
        <h2>{node.data.label || node.id}</h2>
        <code className="muted">{node.data.kind}</code>
      </div>
      {spec ? <p className="doc">{spec.doc}</p> : <p className="field-error">Unknown node type.</p>}
      <div className="field">
        <label className="field-label" htmlFor="node-id">
          Id
        </label>
        <input
          id="node-id"
          value={idText}
          disabled={readOnly}
          onChange={(e) => {
            setIdText(e.target.value);
            setIdError(null);
          }}
          onBlur={() => setIdError(store.renameNode(node.id, idText.trim()))}
          onKeyDown={(e) => e.key === "Enter" && setIdError(store.renameNode(node.id, idText.trim()))}
          data-testid="node-id-input"
        />
        {idError && <p className="field-error">{idError}</p>}
      </div>
      <div className="field">
        <label className="field-label" htmlFor="node-label">
          Label
        </label>
        <input
          id="node-label"
          value={node.data.label ?? ""}
          disabled={readOnly}
          onChange={(e) => store.updateNodeData(node.id, { label: e.target.value || undefined })}
          data-testid="node-label-input"
        />
      </div>
      <h3>Settings</h3>
      <SchemaForm
        schema={spec?.params_schema}
        values={node.data.params}
        onChange={(name, value) => editorStore.getState().setNodeParam(node.id, name, value)}
        paramNames={paramNames}
        serverErrors={serverErrors}
        testIdPrefix="param"
        disabled={readOnly}
      />
      {ports.length > 0 && (
        <>
          <h3>Inputs</h3>
          <ul className="port-list">
            {ports.map((p) => {
              const from = fed.find((f) => f.startsWith(`${p.name} ←`));
              return (
                <li key={p.name}>
                  <code>{p.name}</code> <span className="muted">{p.kind}</span>{" "}
                  {from ? (
                    <span>← {from.split(" ← ")[1]}</span>
                  ) : readOnly ? (
                    <span className="muted">{p.spare ? "(free slot)" : "not connected"}</span>
                  ) : (
                    <ConnectFrom target={node.id} port={p.name} />
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
      {problems.length > 0 && (
        <>
          <h3>Problems</h3>
          <ul className="problem-inline">
            {problems.map((p, i) => (
              <li key={i}>
                <span className="code-tag">{p.code}</span> {p.message}
              </li>
            ))}
          </ul>
        </>
      )}
      {!readOnly && (
        <button type="button" className="danger" onClick={() => store.deleteElements([node.id])} data-testid="node-delete">
          Delete node
        </button>
      )}
    </div>
  );
}
