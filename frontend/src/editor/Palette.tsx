// The palette: node types by the registry's groups, searchable; drag onto the canvas, or press
// a type's button to place it in the middle of the view.
import { useMemo, useState } from "react";
import type { Registry } from "../registry/types";

export const DRAG_MIME = "application/x-aiot-node-type";

export function Palette({ registry, onAdd, disabled }: { registry: Registry; onAdd: (type: string) => void; disabled?: boolean }) {
  const [q, setQ] = useState("");
  const groups = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return registry.groups
      .map((g) => ({
        ...g,
        types: registry.node_types.filter(
          (t) =>
            t.group === g.id &&
            (!needle || t.type.toLowerCase().includes(needle) || t.doc.toLowerCase().includes(needle) || g.title.toLowerCase().includes(needle)),
        ),
      }))
      .filter((g) => g.types.length > 0);
  }, [registry, q]);
  return (
    <aside className="palette" aria-label="Node types">
      <input
        type="search"
        placeholder="Search nodes…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        aria-label="Search node types"
        data-testid="palette-search"
      />
      {groups.map((g) => (
        <section key={g.id} className="palette-group">
          <h3>{g.title}</h3>
          {g.types.map((t) => (
            <button
              key={t.type}
              type="button"
              className={`palette-item group-${t.group}`}
              draggable={!disabled}
              disabled={disabled}
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_MIME, t.type);
                e.dataTransfer.effectAllowed = "move";
              }}
              onClick={() => onAdd(t.type)}
              title={t.doc}
              data-testid={`palette-${t.type}`}
            >
              {t.type}
            </button>
          ))}
        </section>
      ))}
      {groups.length === 0 && <p className="muted">No node type matches.</p>}
    </aside>
  );
}
