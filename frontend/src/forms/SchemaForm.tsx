// A form generated from an object JSON Schema (see schemaForm.ts for the field kinds).
import { useEffect, useId, useState } from "react";
import { isParamRef, type JsonSchema } from "../graph/types";
import {
  checkValue,
  convertScalar,
  describeSchema,
  formatJson,
  parseJsonText,
  parseNumberText,
  parseStringList,
  scalarTypeOf,
  type FieldSpec,
  type ScalarType,
} from "./schemaForm";
import { stableJson } from "../graph/diff";

export interface SchemaFormProps {
  schema: JsonSchema | null | undefined;
  values: Record<string, unknown>;
  onChange: (name: string, value: unknown) => void;
  /** blueprint parameter names a field may be bound to (`{"$param": name}`); none: no binding */
  paramNames?: string[];
  /** messages from the server per field name */
  serverErrors?: Record<string, string>;
  testIdPrefix?: string;
  disabled?: boolean;
}

export function SchemaForm({ schema, values, onChange, paramNames, serverErrors, testIdPrefix = "field", disabled }: SchemaFormProps) {
  const fields = describeSchema(schema);
  if (!fields.length) return <p className="muted">No settings.</p>;
  return (
    <div className="schema-form">
      {fields.map((f) => (
        <Field
          key={f.name}
          spec={f}
          value={values[f.name]}
          onChange={(v) => onChange(f.name, v)}
          paramNames={paramNames}
          serverError={serverErrors?.[f.name]}
          testId={`${testIdPrefix}-${f.name}`}
          disabled={disabled}
        />
      ))}
    </div>
  );
}

interface FieldProps {
  spec: FieldSpec;
  value: unknown;
  onChange: (value: unknown) => void;
  paramNames?: string[];
  serverError?: string;
  testId: string;
  disabled?: boolean;
}

export function Field({ spec, value, onChange, paramNames, serverError, testId, disabled }: FieldProps) {
  const id = useId();
  const [inputError, setInputError] = useState<string | null>(null);
  const bound = isParamRef(value);
  const canBind = paramNames !== undefined;
  const problem = inputError ?? checkValue(spec, value) ?? serverError ?? null;
  const label = (
    <label htmlFor={id} className="field-label">
      {spec.title}
      {spec.required && <span className="req" aria-hidden="true"> *</span>}
    </label>
  );
  const toggleBinding = () => {
    setInputError(null);
    if (bound) onChange(undefined);
    else onChange({ $param: paramNames?.[0] ?? "" });
  };
  let control: React.ReactNode;
  if (bound) {
    control = (
      <select
        id={id}
        value={value.$param}
        onChange={(e) => onChange({ $param: e.target.value })}
        data-testid={`${testId}-param`}
        disabled={disabled}
      >
        {!paramNames?.includes(value.$param) && <option value={value.$param}>{value.$param || "(choose)"}</option>}
        {paramNames?.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
    );
  } else {
    control = (
      <Control spec={spec} id={id} value={value} onChange={onChange} setInputError={setInputError} testId={testId} disabled={disabled} />
    );
  }
  return (
    <div className={`field field-${spec.kind}${problem ? " has-error" : ""}`}>
      <div className="field-head">
        {spec.kind === "boolean" && !bound ? <span /> : label}
        {canBind && (
          <button
            type="button"
            className={`bind-toggle${bound ? " on" : ""}`}
            onClick={toggleBinding}
            aria-pressed={bound}
            title={bound ? "Use a fixed value" : "Bind to a blueprint parameter"}
            data-testid={`${testId}-bind`}
            disabled={disabled || (!bound && !paramNames?.length)}
          >
            {bound ? "bound: $" : "$ param"}
          </button>
        )}
      </div>
      {spec.kind === "boolean" && !bound ? (
        <div className="checkbox-row">
          {control}
          {label}
        </div>
      ) : (
        control
      )}
      {spec.description && <p className="hint">{spec.description}</p>}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

interface ControlProps {
  spec: FieldSpec;
  id: string;
  value: unknown;
  onChange: (value: unknown) => void;
  setInputError: (e: string | null) => void;
  testId: string;
  disabled?: boolean;
}

function Control({ spec, id, value, onChange, setInputError, testId, disabled }: ControlProps) {
  const placeholder = spec.default !== undefined && spec.default !== null ? `default: ${formatPlain(spec.default)}` : undefined;
  switch (spec.kind) {
    case "enum":
      return (
        <select
          id={id}
          value={value === undefined || value === null ? "" : String(value)}
          onChange={(e) => {
            const v = spec.options?.find((o) => String(o) === e.target.value);
            onChange(e.target.value === "" ? undefined : v);
          }}
          data-testid={testId}
          disabled={disabled}
        >
          <option value="">{spec.default !== undefined ? `(default: ${formatPlain(spec.default)})` : "(choose)"}</option>
          {spec.options?.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    case "boolean":
      return (
        <input
          id={id}
          type="checkbox"
          checked={value === undefined ? spec.default === true : value === true}
          onChange={(e) => onChange(e.target.checked)}
          data-testid={testId}
          disabled={disabled}
        />
      );
    case "number":
    case "integer":
      return (
        <NullableWrap spec={spec} value={value} onChange={onChange} testId={testId} disabled={disabled}>
          <TextDraft
            id={id}
            value={value}
            format={(v) => (typeof v === "number" ? String(v) : "")}
            parse={(t) => parseNumberText(t, spec.kind === "integer")}
            onChange={onChange}
            setInputError={setInputError}
            inputMode={spec.kind === "integer" ? "numeric" : "decimal"}
            placeholder={placeholder}
            testId={testId}
            disabled={disabled || value === null}
          />
        </NullableWrap>
      );
    case "string":
      return (
        <NullableWrap spec={spec} value={value} onChange={onChange} testId={testId} disabled={disabled}>
          <input
            id={id}
            type="text"
            value={typeof value === "string" ? value : ""}
            placeholder={placeholder}
            maxLength={spec.maxLength}
            onChange={(e) => onChange(e.target.value === "" && !spec.required ? undefined : e.target.value)}
            data-testid={testId}
            disabled={disabled || value === null}
          />
        </NullableWrap>
      );
    case "string-list":
      return (
        <TextDraft
          id={id}
          multiline
          value={value}
          format={(v) => (Array.isArray(v) ? v.join("\n") : "")}
          parse={(t) => ({ ok: true, value: t.trim() === "" && !spec.required ? undefined : parseStringList(t) })}
          onChange={onChange}
          setInputError={setInputError}
          placeholder="one value a line"
          testId={testId}
          disabled={disabled}
        />
      );
    case "scalar":
      return <ScalarControl spec={spec} id={id} value={value} onChange={onChange} setInputError={setInputError} testId={testId} disabled={disabled} />;
    case "json":
      return (
        <TextDraft
          id={id}
          multiline
          code
          value={value}
          format={formatJson}
          parse={parseJsonText}
          onChange={onChange}
          setInputError={setInputError}
          placeholder={spec.jsonTypes?.includes("string") ? 'JSON: an object, or "a string"' : "JSON"}
          testId={testId}
          disabled={disabled}
        />
      );
  }
}

function formatPlain(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** For a field that may be null: a "none" checkbox beside the input. */
function NullableWrap({
  spec,
  value,
  onChange,
  children,
  testId,
  disabled,
}: {
  spec: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  children: React.ReactNode;
  testId: string;
  disabled?: boolean;
}) {
  if (!spec.nullable) return <>{children}</>;
  const isNull = value === null || (value === undefined && spec.default === null);
  return (
    <div className="nullable">
      {children}
      <label className="inline">
        <input
          type="checkbox"
          checked={isNull}
          onChange={(e) => onChange(e.target.checked ? null : spec.kind === "string" ? "" : undefined)}
          data-testid={`${testId}-none`}
          disabled={disabled}
        />
        none
      </label>
    </div>
  );
}

function ScalarControl({ spec, id, value, onChange, setInputError, testId, disabled }: ControlProps) {
  const types = spec.scalarTypes ?? ["string"];
  const current = scalarTypeOf(value, types);
  return (
    <div className="scalar">
      <select
        aria-label={`${spec.title}: type`}
        value={current}
        onChange={(e) => {
          setInputError(null);
          onChange(convertScalar(value, e.target.value as ScalarType));
        }}
        data-testid={`${testId}-type`}
        disabled={disabled}
      >
        {types.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      {current === "boolean" ? (
        <select
          id={id}
          value={value === true ? "true" : "false"}
          onChange={(e) => onChange(e.target.value === "true")}
          data-testid={testId}
          disabled={disabled}
        >
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : current === "string" ? (
        <input
          id={id}
          type="text"
          value={typeof value === "string" ? value : ""}
          onChange={(e) => onChange(e.target.value)}
          data-testid={testId}
          disabled={disabled}
        />
      ) : (
        <TextDraft
          id={id}
          value={value}
          format={(v) => (typeof v === "number" ? String(v) : "")}
          parse={(t) => parseNumberText(t, current === "integer")}
          onChange={onChange}
          setInputError={setInputError}
          inputMode="decimal"
          testId={testId}
          disabled={disabled}
        />
      )}
    </div>
  );
}

/**
 * A text box whose text is kept while it does not parse (the error is shown), and that follows
 * the value when it changes from outside (undo, another panel).
 */
function TextDraft({
  id,
  value,
  format,
  parse,
  onChange,
  setInputError,
  multiline,
  code,
  placeholder,
  inputMode,
  testId,
  disabled,
}: {
  id: string;
  value: unknown;
  format: (v: unknown) => string;
  parse: (t: string) => { ok: true; value: unknown } | { ok: false; error: string };
  onChange: (v: unknown) => void;
  setInputError: (e: string | null) => void;
  multiline?: boolean;
  code?: boolean;
  placeholder?: string;
  inputMode?: "decimal" | "numeric";
  testId: string;
  disabled?: boolean;
}) {
  const [text, setText] = useState(() => format(value));
  const [lastValue, setLastValue] = useState(() => stableJson(value));
  const key = stableJson(value);
  useEffect(() => {
    if (key !== lastValue) {
      setLastValue(key);
      const parsed = parse(text);
      if (!parsed.ok || stableJson(parsed.value) !== key) {
        setText(format(value));
        setInputError(null);
      }
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const handle = (t: string) => {
    setText(t);
    const parsed = parse(t);
    if (parsed.ok) {
      setInputError(null);
      setLastValue(stableJson(parsed.value));
      onChange(parsed.value);
    } else {
      setInputError(parsed.error);
    }
  };
  if (multiline) {
    return (
      <textarea
        id={id}
        className={code ? "code" : undefined}
        rows={code ? 8 : 4}
        value={text}
        spellCheck={false}
        placeholder={placeholder}
        onChange={(e) => handle(e.target.value)}
        data-testid={testId}
        disabled={disabled}
      />
    );
  }
  return (
    <input
      id={id}
      type="text"
      inputMode={inputMode}
      value={text}
      placeholder={placeholder}
      onChange={(e) => handle(e.target.value)}
      data-testid={testId}
      disabled={disabled}
    />
  );
}
