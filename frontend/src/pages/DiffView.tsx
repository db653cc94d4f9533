import type { GraphDiff } from "../graph/diff";
import { isEmptyDiff } from "../graph/diff";

const show = (v: unknown) => (v === undefined ? "—" : JSON.stringify(v));

export function DiffView({ diff }: { diff: GraphDiff }) {
  if (isEmptyDiff(diff)) return <p className="muted" data-testid="diff-empty">The two graphs compute the same thing (only positions may differ).</p>;
  return (
    <div className="diff" data-testid="diff">
      {diff.meta.length > 0 && (
        <section>
          <h3>Graph</h3>
          <ul>
            {diff.meta.map((c) => (
              <li key={c.field} className="changed">
                {c.field}: {show(c.before)} → {show(c.after)}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h3>Nodes</h3>
        <ul>
          {diff.nodes.added.map((n) => (
            <li key={`a-${n.id}`} className="added" data-testid={`diff-node-added-${n.id}`}>
              + {n.id} <span className="muted">({n.type})</span>
            </li>
          ))}
          {diff.nodes.removed.map((n) => (
            <li key={`r-${n.id}`} className="removed" data-testid={`diff-node-removed-${n.id}`}>
              − {n.id} <span className="muted">({n.type})</span>
            </li>
          ))}
          {diff.nodes.changed.map((n) => (
            <li key={`c-${n.id}`} className="changed" data-testid={`diff-node-changed-${n.id}`}>
              ~ {n.id}
              <ul>
                {n.changes.map((c) => (
                  <li key={c.field}>
                    {c.field}: <del>{show(c.before)}</del> → <ins>{show(c.after)}</ins>
                  </li>
                ))}
              </ul>
            </li>
          ))}
          {!diff.nodes.added.length && !diff.nodes.removed.length && !diff.nodes.changed.length && <li className="muted">No change.</li>}
        </ul>
      </section>
      <section>
        <h3>Edges</h3>
        <ul>
          {diff.edges.added.map((e) => (
            <li key={`a-${e}`} className="added">
              + {e}
            </li>
          ))}
          {diff.edges.removed.map((e) => (
            <li key={`r-${e}`} className="removed">
              − {e}
            </li>
          ))}
          {!diff.edges.added.length && !diff.edges.removed.length && <li className="muted">No change.</li>}
        </ul>
      </section>
      <section>
        <h3>Parameters</h3>
        <ul>
          {diff.params.added.map((p) => (
            <li key={`a-${p}`} className="added">
              + {p}
            </li>
          ))}
          {diff.params.removed.map((p) => (
            <li key={`r-${p}`} className="removed">
              − {p}
            </li>
          ))}
          {diff.params.changed.map((p) => (
            <li key={`c-${p.name}`} className="changed">
              ~ {p.name}: {p.changes.map((c) => `${c.field} ${show(c.before)} → ${show(c.after)}`).join(", ")}
            </li>
          ))}
          {!diff.params.added.length && !diff.params.removed.length && !diff.params.changed.length && <li className="muted">No change.</li>}
        </ul>
      </section>
    </div>
  );
}
