// The blueprint around the graph: name, parameters (the graph's `params` schema), README and
// scenarios.
import { useState } from "react";
import type { Scenario } from "../api/types";
import { PARAM_NAME, type JsonSchema } from "../graph/types";
import { parseNumberText } from "../forms/schemaForm";
import { editorStore, useEditor } from "./store";
import { parseTrace } from "./trace";

const PARAM_TYPES = ["number", "integer", "string", "boolean"] as const;

function NumberBox({ label, value, onChange, integer, testId, disabled }: {
  label: string;
  value: unknown;
  onChange: (v: number | undefined) => void;
  integer?: boolean;
  testId: string;
  disabled?: boolean;
}) {
  const [text, setText] = useState(typeof value === "number" ? String(value) : "");
  const [error, setError] = useState<string | null>(null);
  return (
    <label className="mini-field">
      <span>{label}</span>
      <input
        type="text"
        inputMode="decimal"
        value={text}
        disabled={disabled}
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

function ScenarioList({ readOnly }: { readOnly: boolean }) {
  const scenarios = useEditor((s) => s.scenarios);
  const [error, setError] = useState<string | null>(null);
  const set = (next: Scenario[]) => editorStore.getState().setScenarios(next);
  const upload = async (file: File) => {
    const { lines, errors } = parseTrace(await file.text());
    if (errors.length) {
      setError(`${file.name}: ${errors.slice(0, 3).join("; ")}`);
      return;
    }
    setError(null);
    set([...scenarios, { name: file.name.replace(/\.jsonl?$/, ""), description: "", params: {}, trace: lines, expected: [] }]);
  };
  return (
    <div>
      <ul className="scenario-list">
        {scenarios.map((sc, i) => (
          <li key={i} data-testid={`scenario-${i}`}>
            <input
              aria-label="Scenario name"
              value={sc.name}
              disabled={readOnly}
              onChange={(e) => set(scenarios.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
            />
            <span className="muted">
              {sc.trace?.length ?? 0} messages · {Array.isArray(sc.expected) ? sc.expected.length : 0} expected actions
            </span>
            {sc.description && <p className="hint">{sc.description}</p>}
            {!readOnly && (
              <button type="button" className="link danger" onClick={() => set(scenarios.filter((_, j) => j !== i))}>
                Remove
              </button>
            )}
          </li>
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

export function BlueprintPanel({ readOnly }: { readOnly: boolean }) {
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
      <ScenarioList readOnly={readOnly} />
    </div>
  );
}
