// The canvas nodes: one memo() component per flow kind, sharing one frame. Handles come from the
// registry's ports (variadic slots and an action's value ports included).
import { memo, useEffect, useMemo, useRef, useState } from "react";
import { Handle, Position, useUpdateNodeInternals, type NodeProps } from "@xyflow/react";
import type { ActionFlowNode, OperatorFlowNode, RuleData, RuleFlowNode, SourceFlowNode } from "../graph/flow";
import { isParamRef } from "../graph/types";
import { inputPorts, NEW_VALUE_PORT, OUTPUT_HANDLE, specOf } from "../registry/ports";
import { editorStore, useEditor } from "./store";

function summarize(params: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (k === "schema") continue;
    let text: string;
    if (isParamRef(v)) text = `$${v.$param}`;
    else if (typeof v === "object" && v !== null) text = Array.isArray(v) ? `[${v.join(", ")}]` : "{…}";
    else text = String(v);
    parts.push(`${k}: ${text.length > 28 ? text.slice(0, 27) + "…" : text}`);
  }
  return parts.join(" · ");
}

function AddValuePort({ id }: { id: string }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  if (!open) {
    return (
      <div className="port new-value">
        {/* drop a wire here: a value port named after the node it comes from */}
        <Handle
          type="target"
          position={Position.Left}
          id={NEW_VALUE_PORT}
          className="handle handle-any handle-new"
          data-testid={`handle-${id}-new-value`}
          title="Connect a value here to add it to the record"
        />
        <button type="button" className="add-port nodrag" onClick={() => setOpen(true)} data-testid={`add-port-${id}`}>
          + value
        </button>
      </div>
    );
  }
  const submit = () => {
    const problem = editorStore.getState().addValuePort(id, name.trim());
    if (problem) setError(problem);
    else {
      setOpen(false);
      setName("");
      setError(null);
    }
  };
  return (
    <div className="add-port-form nodrag" onKeyDown={(e) => e.stopPropagation()}>
      <input
        autoFocus
        aria-label="Value port name"
        placeholder="port name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") submit();
          if (e.key === "Escape") setOpen(false);
        }}
        data-testid={`add-port-name-${id}`}
      />
      <button type="button" onClick={submit} data-testid={`add-port-ok-${id}`}>
        Add
      </button>
      {error && <div className="port-error">{error}</div>}
    </div>
  );
}

function NodeFrame({ id, data, selected, flowKind }: { id: string; data: RuleData; selected: boolean; flowKind: RuleFlowNode["type"] }) {
  const registry = useEditor((s) => s.registry);
  const spec = registry ? specOf(registry, data.kind) : undefined;
  const fedKey = useEditor((s) =>
    s.edges
      .filter((e) => e.target === id)
      .map((e) => e.targetHandle ?? "")
      .join(","),
  );
  const problemText = useEditor((s) =>
    s.problems
      .filter((p) => p.node === id)
      .map((p) => p.message)
      .join("\n"),
  );
  const counts = useEditor((s) => s.counts[id]);
  const extraKey = data.extraPorts.join(",");
  const ports = useMemo(
    () => inputPorts(spec, fedKey ? fedKey.split(",") : [], extraKey ? extraKey.split(",") : []),
    [spec, fedKey, extraKey],
  );
  const updateNodeInternals = useUpdateNodeInternals();
  const portKey = ports.map((p) => p.name).join(",");
  // React Flow measures a node and its handles when it mounts; tell it again only when the ports
  // change. (Calling it on mount, node by node, would also run a queued fit-view on the first node
  // alone, zooming onto it instead of the whole graph.)
  const measuredPorts = useRef(portKey);
  useEffect(() => {
    if (measuredPorts.current === portKey) return;
    measuredPorts.current = portKey;
    updateNodeInternals(id);
  }, [id, portKey, updateNodeInternals]);

  const problems = problemText ? problemText.split("\n") : [];
  const hasOutput = !!spec && spec.output?.kind !== "action";
  const summary = summarize(data.params);
  return (
    <div
      className={`rule-node kind-${flowKind} group-${spec?.group ?? "unknown"}${selected ? " selected" : ""}${problems.length ? " has-problem" : ""}`}
      data-testid={`node-${id}`}
    >
      <header className="rule-node-head">
        <span className="rule-node-title">{data.label || id}</span>
        <span className="rule-node-type">{data.kind}</span>
        {problems.length > 0 && (
          <span className="problem-badge" title={problems.join("\n")} data-testid={`node-problem-${id}`}>
            {problems.length}
          </span>
        )}
      </header>
      {data.label && <div className="rule-node-id">{id}</div>}
      {summary && <div className="rule-node-params">{summary}</div>}
      {ports.length > 0 && (
        <ul className="rule-node-ports">
          {ports.map((p) => (
            <li key={p.name} className={`port${p.spare ? " spare" : ""}${p.open ? " open" : ""}`}>
              <Handle
                type="target"
                position={Position.Left}
                id={p.name}
                className={`handle handle-${p.kind}`}
                data-testid={`handle-${id}-${p.name}`}
                title={`${p.name}: ${p.kind}`}
              />
              <span className="port-name">{p.name}</span>
              <span className="port-kind">{p.kind}</span>
            </li>
          ))}
        </ul>
      )}
      {spec?.open_ports && <AddValuePort id={id} />}
      {problems.length > 0 && <div className="rule-node-problem">{problems[0]}</div>}
      {counts && (
        <div className="counts-badge" data-testid={`node-counts-${id}`} title="evaluated / fired in the last replay">
          {counts.evaluated} eval{counts.fired ? ` · ${counts.fired} fired` : ""}
        </div>
      )}
      {hasOutput && (
        <Handle
          type="source"
          position={Position.Right}
          id={OUTPUT_HANDLE}
          className={`handle handle-out handle-${spec?.output?.kind ?? "dynamic"}`}
          data-testid={`handle-${id}-out`}
          title={`output: ${spec?.output?.kind ?? "from its inputs"}`}
        />
      )}
    </div>
  );
}

export const SourceNode = memo(function SourceNode({ id, data, selected }: NodeProps<SourceFlowNode>) {
  return <NodeFrame id={id} data={data} selected={!!selected} flowKind="source" />;
});

export const OperatorNode = memo(function OperatorNode({ id, data, selected }: NodeProps<OperatorFlowNode>) {
  return <NodeFrame id={id} data={data} selected={!!selected} flowKind="operator" />;
});

export const ActionNode = memo(function ActionNode({ id, data, selected }: NodeProps<ActionFlowNode>) {
  return <NodeFrame id={id} data={data} selected={!!selected} flowKind="action" />;
});

export const nodeTypes = { source: SourceNode, operator: OperatorNode, action: ActionNode };
