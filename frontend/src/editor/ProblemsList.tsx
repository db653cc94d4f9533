// Validation problems; clicking one selects and centers the node it names.
import { useReactFlow } from "@xyflow/react";
import { editorStore, useEditor } from "./store";

export function ProblemsList({ validating }: { validating: boolean }) {
  const problems = useEditor((s) => s.problems);
  const { fitView } = useReactFlow();
  const focus = (node: string | null) => {
    if (!node) return;
    const s = editorStore.getState();
    if (!s.nodes.some((n) => n.id === node)) return;
    s.select([node]);
    void fitView({ nodes: [{ id: node }], duration: 300, maxZoom: 1.2, padding: 0.6 });
  };
  return (
    <div className="problems" data-testid="problems">
      <p className="muted" role="status">
        {validating ? "Checking…" : problems.length === 0 ? "No problems: the graph is valid." : `${problems.length} problem${problems.length > 1 ? "s" : ""}`}
      </p>
      <ul>
        {problems.map((p, i) => (
          <li key={`${p.path}-${p.code}-${i}`}>
            <button
              type="button"
              className="problem-item"
              onClick={() => focus(p.node)}
              disabled={!p.node}
              data-testid={`problem-${i}`}
              data-node={p.node ?? ""}
            >
              <span className="code-tag">{p.code}</span>
              {p.node && <strong>{p.node}</strong>}
              <span>{p.message}</span>
              <code className="muted path">{p.path}</code>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
