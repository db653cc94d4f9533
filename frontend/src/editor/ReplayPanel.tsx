// Replay: run a scenario (or an uploaded trace) through the graph being edited, chart the chosen
// nodes, mark the actions, and show per-node counts on the canvas.
import { useMemo, useState } from "react";
import type { Scenario, SimulateResult, TraceLine } from "../api/types";
import { ErrorNote, formatValue } from "../components/ui";
import { stableJson } from "../graph/diff";
import { specOf } from "../registry/ports";
import { computesKey, expectedOf, freeScenarioName, recordExpected, sameValue, scenarioFromReplay, simulate, unrecordable } from "./scenarios";
import { editorStore, useEditor } from "./store";
import { Timeline } from "./Timeline";
import { parseTrace } from "./trace";

/** The studio charts at most this many nodes per replay. */
const MAX_SERIES = 20;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What a replay ran: the trace and parameter values, from which scenario (if one), on which graph. */
interface Ran {
  lines: TraceLine[];
  params: Record<string, unknown>;
  scenario: Scenario | null;
  sourceName: string;
  /** the store's revision then (a later one: the graph may compute something else now)… */
  revision: number;
  /** …and what of the graph decides the actions */
  graph: string;
}

/** Saving a replay as a new scenario, or as the expected actions of the scenario it replayed. */
function SaveScenario({ ran, result }: { ran: Ran; result: SimulateResult }) {
  const scenarios = useEditor((s) => s.scenarios);
  const revision = useEditor((s) => s.revision);
  const [name, setName] = useState(() =>
    freeScenarioName(ran.scenario ? `${ran.scenario.name} (recorded)` : ran.sourceName.replace(/\.(jsonl|json|txt)$/, ""), scenarios),
  );
  const [description, setDescription] = useState(ran.scenario?.description ?? "");
  const [done, setDone] = useState<string | null>(null);
  // the scenario replayed, if it is still there with the same trace and parameter values
  const at = ran.scenario
    ? scenarios.findIndex((sc) => sc.trace === ran.scenario!.trace && stableJson(sc.params ?? {}) === stableJson(ran.params))
    : -1;
  const target = at >= 0 ? scenarios[at] : null;
  const graphChanged = useMemo(
    () => revision !== ran.revision && computesKey(editorStore.getState().toGraph()) !== ran.graph,
    [revision, ran],
  );
  const blocked = unrecordable(result) ?? (graphChanged ? "The graph changed since this replay: run it again to record its actions." : null);
  const nameError = !name.trim() ? "A scenario needs a name." : scenarios.some((sc) => sc.name === name.trim()) ? `There is already a scenario named “${name.trim()}”.` : null;
  const sameActions = target ? sameValue(result.records, expectedOf(target)) : null;
  // a scenario that also expects a summary (events, rejects) must get that one too
  const matches = target && sameActions && (target.expected_summary === undefined || sameValue(target.expected_summary, result.summary));
  const save = () => {
    if (blocked || nameError) return;
    const sc = scenarioFromReplay({ name: name.trim(), description: description.trim(), params: ran.params, trace: ran.lines, result });
    editorStore.getState().setScenarios([...editorStore.getState().scenarios, sc]);
    setDone(`Saved as the scenario “${sc.name}” with ${plural(result.records.length, "expected action")}. Save the blueprint to keep it.`);
    setName(freeScenarioName(sc.name, [...editorStore.getState().scenarios]));
  };
  const record = () => {
    if (blocked || at < 0) return;
    const current = editorStore.getState().scenarios;
    editorStore.getState().setScenarios(current.map((sc, j) => (j === at ? recordExpected(sc, result) : sc)));
    setDone(`“${target!.name}” now expects the ${plural(result.records.length, "action")} of this replay. Save the blueprint to keep it.`);
  };
  return (
    <section className="save-scenario" aria-label="Save as scenario" data-testid="save-scenario">
      {target && (
        <p className={matches ? "ok" : "warn"} data-testid="replay-vs-expected">
          {matches
            ? `The replay produced exactly the actions “${target.name}” expects.`
            : sameActions
              ? `The replay produced the actions “${target.name}” expects, but another summary (events, rejects).`
              : `The replay produced ${plural(result.records.length, "action")}; “${target.name}” expects ${
                expectedOf(target).length === result.records.length ? "other ones" : expectedOf(target).length
              }.`}
        </p>
      )}
      {blocked ? (
        <p className="hint" data-testid="save-scenario-blocked">
          {blocked}
        </p>
      ) : (
        <>
          <div className="row wrap">
            <label className="mini-field grow">
              <span>Scenario name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} data-testid="save-scenario-name" />
            </label>
            <label className="mini-field grow">
              <span>Description</span>
              <input
                value={description}
                placeholder="What happens in the trace, and what the rule must do"
                onChange={(e) => setDescription(e.target.value)}
                data-testid="save-scenario-description"
              />
            </label>
            <button type="button" onClick={save} disabled={!!nameError} data-testid="save-scenario-button">
              Save as scenario
            </button>
            {target && !matches && (
              <button type="button" onClick={record} data-testid="record-expected-button">
                Record as the expected actions of “{target.name}”
              </button>
            )}
          </div>
          {nameError && <p className="field-error">{nameError}</p>}
          <p className="hint">
            The trace{Object.keys(ran.params).length ? ", its parameter values" : ""} and the {plural(result.records.length, "action")} of this
            replay become a scenario the blueprint must pass.
          </p>
        </>
      )}
      {done && (
        <p className="hint" role="status" data-testid="save-scenario-done">
          {done}
        </p>
      )}
    </section>
  );
}

export function ReplayPanel({ tenant, onClose }: { tenant: string; onClose: () => void }) {
  const scenarios = useEditor((s) => s.scenarios);
  const nodes = useEditor((s) => s.nodes);
  const registry = useEditor((s) => s.registry);
  const [source, setSource] = useState<string>(scenarios.length ? "0" : "upload");
  // what is picked: a scenario's index, or "upload" (also once the picked scenario has been removed
  // in the blueprint panel)
  const choice = source !== "upload" && scenarios[Number(source)] ? source : "upload";
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
  const [ran, setRan] = useState<Ran | null>(null);
  const [runs, setRuns] = useState(0);
  const [picked, setPicked] = useState<number | null>(null);

  const run = async () => {
    let lines: TraceLine[];
    let params: Record<string, unknown> = {};
    let scenario: Scenario | null = null;
    if (choice === "upload") {
      if (!upload) return setError(new Error("Choose a .jsonl trace file first."));
      lines = upload.lines;
    } else {
      scenario = scenarios[Number(choice)];
      lines = scenario.trace;
      params = scenario.params ?? {};
    }
    const started: Ran = {
      lines,
      params,
      scenario,
      sourceName: scenario?.name ?? upload?.name ?? "replay",
      revision: editorStore.getState().revision,
      graph: computesKey(editorStore.getState().toGraph()),
    };
    setRunning(true);
    setError(null);
    setPicked(null);
    try {
      const res = await simulate(tenant, lines, params, series);
      setResult(res);
      setRan(started);
      setRuns((n) => n + 1);
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
          <select value={choice} onChange={(e) => setSource(e.target.value)} data-testid="replay-source">
            {scenarios.map((sc, i) => (
              <option key={i} value={String(i)}>
                {sc.name}
              </option>
            ))}
            <option value="upload">Upload a .jsonl trace…</option>
          </select>
        </label>
        {choice === "upload" && (
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
            setRan(null);
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
          {ran && <SaveScenario key={runs} ran={ran} result={result} />}
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
