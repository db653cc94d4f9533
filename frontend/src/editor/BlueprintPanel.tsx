// The blueprint around the graph: name, parameters (the graph's `params` schema), README and
// scenarios.
import { useState } from "react";
import type { Scenario } from "../api/types";
import { ErrorNote } from "../components/ui";
import { stableJson } from "../graph/diff";
import { PARAM_NAME, type JsonSchema } from "../graph/types";
import { parseNumberText } from "../forms/schemaForm";
import { clearExpected, describeRecord, expectedOf, freeScenarioName, recordExpected, simulate, unrecordable } from "./scenarios";
import { editorStore, useEditor } from "./store";
import { parseTrace } from "./trace";

const PARAM_TYPES = ["number", "integer", "string", "boolean"] as const;

/**
 * A number typed as text. It shows the store's value whenever that changes from outside (undo,
 * redo, another control), but leaves alone what the user is typing while it means the same value
 * ("1." or "1e1" is not rewritten to "1" or "10"), and a half-typed number that does not parse yet.
 */
export function NumberBox({ label, value, onChange, integer, testId, disabled, placeholder }: {
  label: string;
  value: unknown;
  onChange: (v: number | undefined) => void;
  integer?: boolean;
  testId: string;
  disabled?: boolean;
  placeholder?: string;
}) {
  const shown = typeof value === "number" ? String(value) : "";
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  const [seen, setSeen] = useState<unknown>(value);
  if (!Object.is(seen, value)) {
    // the value changed: from this box's own typing (then the text already says it), or from outside
    setSeen(value);
    const typed = parseNumberText(text, !!integer);
    if (!(typed.ok && Object.is(typed.value, typeof value === "number" ? value : undefined))) {
      setText(shown);
      setError(null);
    }
  }
  return (
    <label className="mini-field">
      <span>{label}</span>
      <input
        type="text"
        inputMode="decimal"
        value={text}
        disabled={disabled}
        placeholder={placeholder}
        onChange={(e) => {
          setText(e.target.value);
          const p = parseNumberText(e.target.value, !!integer);
          if (p.ok) {
            setError(null);
            onChange(p.value as number | undefined);
          } else setError(p.error);
        }}
        data-testid={testId}
      />
      {error && <span className="field-error">{error}</span>}
    </label>
  );
}

function ParamCard({ name, schema, readOnly }: { name: string; schema: JsonSchema; readOnly: boolean }) {
  const [nameText, setNameText] = useState(name);
  const [nameError, setNameError] = useState<string | null>(null);
  const type = (typeof schema.type === "string" ? schema.type : "number") as (typeof PARAM_TYPES)[number];
  const update = (patch: Partial<JsonSchema>) => {
    const s = editorStore.getState();
    const params = s.meta.params ?? { type: "object", properties: {} };
    const next: JsonSchema = { ...schema, ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete next[k];
    s.setGraphParams({ ...params, type: "object", properties: { ...(params.properties ?? {}), [name]: next } });
  };
  const remove = () => {
    const s = editorStore.getState();
    const params = s.meta.params ?? { type: "object", properties: {} };
    const properties = { ...(params.properties ?? {}) };
    delete properties[name];
    s.setGraphParams({ ...params, properties });
  };
  const numeric = type === "number" || type === "integer";
  return (
    <li className="param-card" data-testid={`bp-param-${name}`}>
      <div className="row">
        <label className="mini-field grow">
          <span>Name</span>
          <input
            value={nameText}
            disabled={readOnly}
            onChange={(e) => setNameText(e.target.value)}
            onBlur={() => setNameError(editorStore.getState().renameGraphParam(name, nameText.trim()))}
            data-testid={`bp-param-name-${name}`}
          />
        </label>
        <label className="mini-field">
          <span>Type</span>
          <select
            value={type}
            disabled={readOnly}
            onChange={(e) => {
              const t = e.target.value;
              const numericNow = t === "number" || t === "integer";
              update({
                type: t,
                default: undefined,
                ...(numericNow ? {} : { minimum: undefined, maximum: undefined }),
              });
            }}
            data-testid={`bp-param-type-${name}`}
          >
            {PARAM_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      {nameError && <p className="field-error">{nameError}</p>}
      <label className="mini-field">
        <span>Title</span>
        <input value={schema.title ?? ""} disabled={readOnly} onChange={(e) => update({ title: e.target.value || undefined })} />
      </label>
      <div className="row">
        {type === "boolean" ? (
          <label className="mini-field inline">
            <input type="checkbox" checked={schema.default === true} disabled={readOnly} onChange={(e) => update({ default: e.target.checked })} />
            <span>Default</span>
          </label>
        ) : numeric ? (
          <NumberBox key={`d-${type}`} label="Default" value={schema.default} integer={type === "integer"} onChange={(v) => update({ default: v })} testId={`bp-param-default-${name}`} disabled={readOnly} />
        ) : (
          <label className="mini-field grow">
            <span>Default</span>
            <input
              value={typeof schema.default === "string" ? schema.default : ""}
              disabled={readOnly}
              onChange={(e) => update({ default: e.target.value })}
              data-testid={`bp-param-default-${name}`}
            />
          </label>
        )}
        {numeric && (
          <>
            <NumberBox label="Min" value={schema.minimum} integer={type === "integer"} onChange={(v) => update({ minimum: v })} testId={`bp-param-min-${name}`} disabled={readOnly} />
            <NumberBox label="Max" value={schema.maximum} integer={type === "integer"} onChange={(v) => update({ maximum: v })} testId={`bp-param-max-${name}`} disabled={readOnly} />
          </>
        )}
      </div>
      <label className="mini-field">
        <span>Description</span>
        <textarea rows={2} value={schema.description ?? ""} disabled={readOnly} onChange={(e) => update({ description: e.target.value || undefined })} />
      </label>
      {!readOnly && (
        <button type="button" className="link danger" onClick={remove} data-testid={`bp-param-remove-${name}`}>
          Remove parameter
        </button>
      )}
    </li>
  );
}

/** A scenario's parameter values: each of the blueprint's parameters, blank for its default. */
function ScenarioParams({ index, scenario, readOnly, onChange }: {
  index: number;
  scenario: Scenario;
  readOnly: boolean;
  onChange: (params: Record<string, unknown>) => void;
}) {
  const props = useEditor((s) => s.meta.params?.properties);
  const params = scenario.params ?? {};
  const set = (name: string, value: unknown) => {
    const next = { ...params };
    if (value === undefined) delete next[name];
    else next[name] = value;
    onChange(next);
  };
  const names = Object.keys(props ?? {});
  const unknown = Object.keys(params).filter((k) => !props || !(k in props));
  if (!names.length && !unknown.length) return null;
  const shownDefault = (schema: JsonSchema) => (schema.default === undefined ? "no default" : `default ${JSON.stringify(schema.default)}`);
  return (
    <fieldset className="scenario-params" data-testid={`scenario-params-${index}`}>
      <legend>Parameter values (blank: the default)</legend>
      <div className="row wrap">
        {names.map((name) => {
          const schema = props![name];
          const type = typeof schema.type === "string" ? schema.type : "number";
          const testId = `scenario-param-${index}-${name}`;
          if (type === "number" || type === "integer") {
            return (
              <NumberBox
                key={name}
                label={name}
                value={params[name]}
                integer={type === "integer"}
                placeholder={shownDefault(schema)}
                onChange={(v) => set(name, v)}
                testId={testId}
                disabled={readOnly}
              />
            );
          }
          if (type === "boolean") {
            return (
              <label key={name} className="mini-field">
                <span>{name}</span>
                <select
                  value={params[name] === true ? "true" : params[name] === false ? "false" : ""}
                  disabled={readOnly}
                  onChange={(e) => set(name, e.target.value === "" ? undefined : e.target.value === "true")}
                  data-testid={testId}
                >
                  <option value="">{shownDefault(schema)}</option>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              </label>
            );
          }
          return (
            <label key={name} className="mini-field">
              <span>{name}</span>
              <input
                value={typeof params[name] === "string" ? (params[name] as string) : ""}
                placeholder={shownDefault(schema)}
                disabled={readOnly}
                onChange={(e) => set(name, e.target.value === "" ? undefined : e.target.value)}
                data-testid={testId}
              />
            </label>
          );
        })}
      </div>
      {unknown.map((name) => (
        <p key={name} className="field-error">
          {name} = {JSON.stringify(params[name])} is not a parameter of this blueprint.{" "}
          {!readOnly && (
            <button type="button" className="link" onClick={() => set(name, undefined)} data-testid={`scenario-param-drop-${index}-${name}`}>
              Drop it
            </button>
          )}
        </p>
      ))}
    </fieldset>
  );
}

function ScenarioCard({ index, scenario, scenarios, tenant, readOnly }: {
  index: number;
  scenario: Scenario;
  scenarios: Scenario[];
  tenant?: string;
  readOnly: boolean;
}) {
  const [recording, setRecording] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const expected = expectedOf(scenario);
  /** Replaces this scenario (found again by its trace, should the list have changed meanwhile). */
  const replace = (update: (sc: Scenario) => Scenario, key?: string) => {
    const current = editorStore.getState().scenarios;
    const at = current[index]?.trace === scenario.trace ? index : current.findIndex((sc) => sc.trace === scenario.trace);
    if (at < 0) return false;
    editorStore.getState().setScenarios(
      current.map((sc, j) => (j === at ? update(sc) : sc)),
      key,
    );
    return true;
  };
  const rerecord = async () => {
    if (!tenant) return;
    setRecording(true);
    setError(null);
    setNote(null);
    const revision = editorStore.getState().revision;
    const params = scenario.params ?? {};
    try {
      const result = await simulate(tenant, scenario.trace, params);
      const why = unrecordable(result);
      if (why) throw new Error(why);
      if (editorStore.getState().revision !== revision) throw new Error("The graph changed during the replay: record again.");
      let changed = false;
      const found = replace((sc) => {
        if (stableJson(sc.params ?? {}) !== stableJson(params)) {
          changed = true;
          return sc;
        }
        return recordExpected(sc, result);
      });
      if (!found) throw new Error("The scenario was removed during the replay.");
      if (changed) throw new Error("The scenario's parameter values changed during the replay: record again.");
      const n = result.records.length;
      setNote(`Recorded ${n} expected action${n === 1 ? "" : "s"} from a replay of the graph as it is now.`);
    } catch (err) {
      setError(err);
    } finally {
      setRecording(false);
    }
  };
  const duplicate = scenarios.some((sc, j) => j !== index && sc.name === scenario.name);
  return (
    <li className="scenario-card" data-testid={`scenario-${index}`}>
      <label className="mini-field">
        <span>Name</span>
        <input
          aria-label="Scenario name"
          value={scenario.name}
          disabled={readOnly}
          onChange={(e) => replace((sc) => ({ ...sc, name: e.target.value }), `scenario:${index}:name`)}
          data-testid={`scenario-name-${index}`}
        />
      </label>
      {!scenario.name.trim() && <p className="field-error">A scenario needs a name.</p>}
      {duplicate && <p className="field-error">Another scenario has this name.</p>}
      <label className="mini-field">
        <span>Description</span>
        <textarea
          aria-label="Scenario description"
          rows={2}
          value={scenario.description ?? ""}
          disabled={readOnly}
          placeholder="What happens in the trace, and what the rule must do about it"
          onChange={(e) => replace((sc) => ({ ...sc, description: e.target.value }), `scenario:${index}:description`)}
          data-testid={`scenario-description-${index}`}
        />
      </label>
      <ScenarioParams
        index={index}
        scenario={scenario}
        readOnly={readOnly}
        onChange={(params) => replace((sc) => ({ ...sc, params }), `scenario:${index}:params`)}
      />
      <p className="muted" data-testid={`scenario-counts-${index}`}>
        {scenario.trace?.length ?? 0} messages · {expected.length} expected action{expected.length === 1 ? "" : "s"}
      </p>
      <details className="scenario-expected" data-testid={`scenario-expected-${index}`}>
        <summary>Expected actions ({expected.length})</summary>
        {expected.length === 0 ? (
          <p className="hint">None: the scenario passes only if the trace produces no action. Record them from a replay.</p>
        ) : (
          <ol className="records">
            {expected.map((r, j) => (
              <li key={j} title={JSON.stringify(r)}>
                <span className="mono">{typeof r.ts === "number" ? new Date(r.ts).toISOString().replace("T", " ").replace("Z", "") : String(r.ts)}</span>{" "}
                {describeRecord(r)}
                {r.message ? ` · ${r.message}` : ""}
              </li>
            ))}
          </ol>
        )}
      </details>
      {!readOnly && (
        <div className="row wrap">
          {tenant && (
            <button type="button" onClick={() => void rerecord()} disabled={recording} data-testid={`scenario-record-${index}`}>
              {recording ? "Replaying…" : "Re-record from a replay"}
            </button>
          )}
          <button
            type="button"
            onClick={() => {
              replace(clearExpected);
              setNote(null);
            }}
            disabled={expected.length === 0 && scenario.expected_summary === undefined}
            data-testid={`scenario-clear-${index}`}
          >
            Clear expected actions
          </button>
          <button
            type="button"
            className="link danger"
            onClick={() => editorStore.getState().setScenarios(editorStore.getState().scenarios.filter((_, j) => j !== index))}
          >
            Remove
          </button>
        </div>
      )}
      {note && (
        <p className="hint" role="status">
          {note}
        </p>
      )}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
    </li>
  );
}

function ScenarioList({ readOnly, tenant }: { readOnly: boolean; tenant?: string }) {
  const scenarios = useEditor((s) => s.scenarios);
  const [error, setError] = useState<string | null>(null);
  const upload = async (file: File) => {
    const { lines, errors } = parseTrace(await file.text());
    if (errors.length) {
      setError(`${file.name}: ${errors.slice(0, 3).join("; ")}`);
      return;
    }
    setError(null);
    const current = editorStore.getState().scenarios;
    const name = freeScenarioName(file.name.replace(/\.(jsonl|json|txt)$/, ""), current);
    editorStore.getState().setScenarios([...current, { name, description: "", params: {}, trace: lines, expected: [] }]);
  };
  return (
    <div>
      <p className="hint">
        A scenario is a telemetry trace and the actions it must produce; certification replays each one on both engines. In the
        Replay panel, “Save as scenario” keeps a replay with its actions as the expected ones.
      </p>
      <ul className="scenario-list">
        {scenarios.map((sc, i) => (
          <ScenarioCard key={i} index={i} scenario={sc} scenarios={scenarios} tenant={tenant} readOnly={readOnly} />
        ))}
      </ul>
      {scenarios.length === 0 && <p className="muted">No scenarios yet.</p>}
      {!readOnly && (
        <label className="file-button">
          Add a scenario from a .jsonl trace
          <input type="file" accept=".jsonl,.json,.txt" onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0])} data-testid="scenario-upload" />
        </label>
      )}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

/** `tenant`: where replays run (to re-record expected actions); without it, that is not offered. */
export function BlueprintPanel({ readOnly, tenant }: { readOnly: boolean; tenant?: string }) {
  const meta = useEditor((s) => s.meta);
  const readme = useEditor((s) => s.readme);
  const [newName, setNewName] = useState("");
  const [newError, setNewError] = useState<string | null>(null);
  const props = meta.params?.properties ?? {};
  const store = editorStore.getState();
  const addParam = () => {
    const name = newName.trim();
    if (!PARAM_NAME.test(name)) return setNewError("A name starts with a letter or _, then letters, digits or _.");
    if (name in props) return setNewError(`${name} is already a parameter.`);
    setNewError(null);
    setNewName("");
    const params = meta.params ?? { type: "object" };
    store.setGraphParams({ ...params, type: "object", properties: { ...props, [name]: { type: "number", default: 0 } } });
  };
  return (
    <div className="blueprint-panel">
      <div className="field">
        <label className="field-label" htmlFor="graph-name">
          Graph name
        </label>
        <input id="graph-name" value={meta.name ?? ""} disabled={readOnly} onChange={(e) => store.setMeta({ name: e.target.value })} />
      </div>
      <div className="field">
        <label className="field-label" htmlFor="graph-description">
          Description
        </label>
        <textarea
          id="graph-description"
          rows={3}
          value={meta.description ?? ""}
          disabled={readOnly}
          onChange={(e) => store.setMeta({ description: e.target.value || undefined })}
        />
      </div>
      <h3>Parameters</h3>
      <ul className="param-list">
        {Object.entries(props).map(([name, schema]) => (
          <ParamCard key={name} name={name} schema={schema} readOnly={readOnly} />
        ))}
      </ul>
      {!readOnly && (
        <div className="row">
          <input
            aria-label="New parameter name"
            placeholder="new_parameter"
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && addParam()}
            data-testid="bp-param-new-name"
          />
          <button type="button" onClick={addParam} data-testid="bp-param-add">
            Add parameter
          </button>
        </div>
      )}
      {newError && <p className="field-error">{newError}</p>}
      <h3>README</h3>
      <textarea
        className="readme"
        rows={10}
        value={readme}
        disabled={readOnly}
        onChange={(e) => store.setReadme(e.target.value)}
        aria-label="README"
        data-testid="readme"
      />
      <h3>Scenarios</h3>
      <ScenarioList readOnly={readOnly} tenant={tenant} />
    </div>
  );
}
