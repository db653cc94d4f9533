// Replay: run a scenario (or an uploaded trace) through the graph being edited, chart the chosen
// nodes, mark the actions, and show per-node counts on the canvas.
import { useMemo, useState } from "react";
import { api, tenantPath } from "../api/client";
import type { SimulateResult, TraceLine } from "../api/types";
import { ErrorNote, formatValue } from "../components/ui";
import { specOf } from "../registry/ports";
import { editorStore, useEditor } from "./store";
import { Timeline } from "./Timeline";
import { parseTrace } from "./trace";

/** The studio charts at most this many nodes per replay. */
const MAX_SERIES = 20;

export function ReplayPanel({ tenant, onClose }: { tenant: string; onClose: () => void }) {
  const scenarios = useEditor((s) => s.scenarios);
  const nodes = useEditor((s) => s.nodes);
  const registry = useEditor((s) => s.registry);
  const [source, setSource] = useState<string>(scenarios.length ? "0" : "upload");
  const [upload, setUpload] = useState<{ name: string; lines: TraceLine[] } | null>(null);
  const [uploadErrors, setUploadErrors] = useState<string[]>([]);
  const chartable = useMemo(
    () =>
      nodes.filter((n) => {
        const spec = registry ? specOf(registry, n.data.kind) : undefined;
        const kind = spec?.output?.kind;
        return kind !== "record" && kind !== "action";
      }),
    [nodes, registry],
  );
  const [series, setSeries] = useState<string[]>(() => {
    const selected = nodes.filter((n) => n.selected).map((n) => n.id);
    const ids = new Set(chartable.map((n) => n.id));
    const chosen = selected.filter((id) => ids.has(id));
    return (chosen.length ? chosen : chartable.filter((n) => n.data.kind === "field").map((n) => n.id)).slice(0, 3);
  });
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<SimulateResult | null>(null);
  const [picked, setPicked] = useState<number | null>(null);

  const run = async () => {
    let trace: TraceLine[];
    let params: Record<string, unknown> = {};
    if (source === "upload") {
      if (!upload) return setError(new Error("Choose a .jsonl trace file first."));
      trace = upload.lines;
    } else {
      const sc = scenarios[Number(source)];
      trace = sc.trace;
      params = sc.params ?? {};
    }
    setRunning(true);
    setError(null);
    setPicked(null);
    try {
      const res = await api<SimulateResult>(tenantPath(tenant, "/simulate"), {
        method: "POST",
        body: { graph: editorStore.getState().toGraph(), params, trace, series },
      });
      setResult(res);
      editorStore.getState().setCounts(res.counts ?? {});
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
    }
  };

  const record = picked !== null ? result?.records[picked] : null;
  return (
    <section className="replay" aria-label="Replay" data-testid="replay-panel">
      <header className="replay-head">
        <h2>Replay</h2>
        <label>
          Trace{" "}
          <select value={source} onChange={(e) => setSource(e.target.value)} data-testid="replay-source">
            {scenarios.map((sc, i) => (
              <option key={i} value={String(i)}>
                {sc.name}
              </option>
            ))}
            <option value="upload">Upload a .jsonl trace…</option>
          </select>
        </label>
        {source === "upload" && (
          <input
            type="file"
            accept=".jsonl,.json,.txt"
            aria-label="Trace file"
            data-testid="replay-upload"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              if (!f) return;
              const parsed = parseTrace(await f.text());
              setUploadErrors(parsed.errors);
              setUpload(parsed.errors.length ? null : { name: f.name, lines: parsed.lines });
            }}
          />
        )}
        <button type="button" className="primary" onClick={run} disabled={running || series.length === 0} data-testid="replay-run">
          {running ? "Running…" : "Run"}
        </button>
        <button
          type="button"
          onClick={() => {
            setResult(null);
            editorStore.getState().setCounts({});
          }}
          disabled={!result}
        >
          Clear
        </button>
        <button type="button" className="icon" onClick={onClose} aria-label="Close replay">
          ×
        </button>
      </header>
      {uploadErrors.length > 0 && <p className="field-error">{uploadErrors.slice(0, 5).join("; ")}</p>}
      <fieldset className="series-picker">
        <legend>Chart these nodes (at most {MAX_SERIES})</legend>
        {chartable.map((n) => (
          <label key={n.id} className="chip">
            <input
              type="checkbox"
              checked={series.includes(n.id)}
              disabled={!series.includes(n.id) && series.length >= MAX_SERIES}
              onChange={(e) => setSeries(e.target.checked ? [...series, n.id] : series.filter((s) => s !== n.id))}
              data-testid={`series-toggle-${n.id}`}
            />
            {n.id}
          </label>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      {result && (
        <div className="replay-result">
          <p className="muted" data-testid="replay-summary">
            {Object.entries(result.summary)
              .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
              .join(" · ")}
            {result.truncated && " · (truncated)"}
          </p>
          <Timeline series={result.series ?? {}} records={result.records} selected={picked} onPick={setPicked} />
          {record && (
            <div className="record-detail" data-testid="record-detail">
              <h3>
                {record.kind === "alert" ? `Alert ${record.name}` : `Command to ${record.topic}`} · key {record.key} ·{" "}
                {new Date(record.ts).toLocaleString()}
              </h3>
              {record.message && <p>{record.message}</p>}
              <table>
                <tbody>
                  {Object.entries(record.values ?? {}).map(([k, v]) => (
                    <tr key={k}>
                      <th>{k}</th>
                      <td>{formatValue(v)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {record.payload !== undefined && <pre>{JSON.stringify(record.payload, null, 2)}</pre>}
            </div>
          )}
          <details>
            <summary>{result.records.length} actions</summary>
            <ol className="records">
              {result.records.map((r, i) => (
                <li key={i}>
                  <button type="button" className="link" onClick={() => setPicked(i)} data-testid={`record-${i}`}>
                    {new Date(r.ts).toLocaleTimeString()} {r.kind} {r.name ?? r.topic} ({r.key})
                  </button>
                </li>
              ))}
            </ol>
          </details>
        </div>
      )}
    </section>
  );
}
