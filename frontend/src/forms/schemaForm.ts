// JSON Schema → form fields: the kinds of schema the registry's params schemas and blueprint
// parameter schemas use, how a field's text becomes a value, and quick checks shown as you type.
// The server's validation stays the judge; these checks only save a round trip.
import { isParamRef, type JsonSchema } from "../graph/types";

export type ScalarType = "number" | "integer" | "string" | "boolean";

export type FieldKind =
  | "enum" // select
  | "number"
  | "integer"
  | "string"
  | "boolean" // checkbox
  | "string-list" // one string a line
  | "scalar" // one of several scalar types, e.g. ["number", "string", "boolean"]
  | "json"; // objects (a payload schema, a payload template), or anything else: a JSON textarea

export interface FieldSpec {
  name: string;
  title: string;
  description?: string;
  kind: FieldKind;
  required: boolean;
  /** null is a value the field may take ("none") */
  nullable: boolean;
  default?: unknown;
  options?: unknown[];
  scalarTypes?: ScalarType[];
  /** the JSON types a json field accepts */
  jsonTypes?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type] : [];
}

export function describeField(name: string, schema: JsonSchema, required: boolean): FieldSpec {
  const types = typesOf(schema);
  const nonNull = types.filter((t) => t !== "null");
  const base: FieldSpec = {
    name,
    title: schema.title ?? name,
    description: schema.description,
    kind: "json",
    required,
    nullable: types.includes("null") || (schema.enum?.includes(null) ?? false),
    default: schema.default,
    minimum: schema.minimum,
    maximum: schema.maximum,
    exclusiveMinimum: schema.exclusiveMinimum,
    exclusiveMaximum: schema.exclusiveMaximum,
    minLength: schema.minLength,
    maxLength: schema.maxLength,
    pattern: schema.pattern,
  };
  if (schema.enum) return { ...base, kind: "enum", options: schema.enum.filter((o) => o !== null) };
  if (nonNull.length === 1 && nonNull[0] === "array" && typesOf(schema.items ?? {}).join() === "string") {
    return { ...base, kind: "string-list", maxLength: schema.items?.maxLength };
  }
  if (nonNull.includes("object") || nonNull.includes("array") || nonNull.length === 0) {
    return { ...base, kind: "json", jsonTypes: nonNull };
  }
  if (nonNull.length > 1) return { ...base, kind: "scalar", scalarTypes: nonNull as ScalarType[] };
  const t = nonNull[0];
  if (t === "number" || t === "integer" || t === "string" || t === "boolean") return { ...base, kind: t };
  return { ...base, kind: "json", jsonTypes: nonNull };
}

/** The fields of an object schema, in its properties' order. */
export function describeSchema(schema: JsonSchema | undefined | null): FieldSpec[] {
  if (!schema || typeof schema !== "object") return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, prop]) => describeField(name, prop ?? {}, required.has(name)));
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/** A number field's text: "" leaves the param unset (its default applies). */
export function parseNumberText(text: string, integer: boolean): Parsed {
  const t = text.trim();
  if (t === "") return { ok: true, value: undefined };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, error: "Enter a number." };
  if (integer && !Number.isInteger(n)) return { ok: false, error: "Enter a whole number." };
  return { ok: true, value: n };
}

export function parseJsonText(text: string): Parsed {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${(err as Error).message}` };
  }
}

export function formatJson(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

export function parseStringList(text: string): string[] {
  return text
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The scalar type a value of a union field has now. */
export function scalarTypeOf(value: unknown, allowed: ScalarType[]): ScalarType {
  if (typeof value === "boolean" && allowed.includes("boolean")) return "boolean";
  if (typeof value === "number" && allowed.includes("number")) return "number";
  if (typeof value === "number" && allowed.includes("integer")) return "integer";
  if (typeof value === "string" && allowed.includes("string")) return "string";
  return allowed[0];
}

/** A value converted to another scalar type when the user switches a union field's type. */
export function convertScalar(value: unknown, to: ScalarType): unknown {
  switch (to) {
    case "boolean":
      return value === true || value === "true";
    case "number":
    case "integer": {
      const n = Number(value);
      return Number.isFinite(n) && value !== "" && typeof value !== "boolean" ? (to === "integer" ? Math.round(n) : n) : 0;
    }
    case "string":
      return value === undefined || value === null ? "" : String(value);
  }
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** A quick check of one value against its field; a `{"$param"}` binding is the server's to judge. */
export function checkValue(spec: FieldSpec, value: unknown): string | null {
  if (value === undefined) return spec.required && spec.default === undefined ? "Required." : null;
  if (isParamRef(value)) return null;
  if (value === null) return spec.nullable ? null : "Required.";
  switch (spec.kind) {
    case "enum":
      return spec.options?.some((o) => o === value) ? null : "Pick one of the choices.";
    case "boolean":
      return typeof value === "boolean" ? null : "Expected true or false.";
    case "string-list":
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) return "Expected a list of strings.";
      if (new Set(value).size !== value.length) return "Each value may appear once.";
      return null;
    case "json": {
      const types = spec.jsonTypes ?? [];
      const t = jsonTypeOf(value);
      if (types.length && !types.includes(t) && !(t === "integer" && types.includes("number"))) {
        return `Expected ${types.join(" or ")}.`;
      }
      return null;
    }
    default:
      break;
  }
  if (typeof value === "number") {
    if (spec.kind === "string") return "Expected text.";
    if (spec.kind === "integer" && !Number.isInteger(value)) return "Enter a whole number.";
    if (spec.minimum !== undefined && value < spec.minimum) return `At least ${spec.minimum}.`;
    if (spec.maximum !== undefined && value > spec.maximum) return `At most ${spec.maximum}.`;
    if (spec.exclusiveMinimum !== undefined && value <= spec.exclusiveMinimum) return `More than ${spec.exclusiveMinimum}.`;
    if (spec.exclusiveMaximum !== undefined && value >= spec.exclusiveMaximum) return `Less than ${spec.exclusiveMaximum}.`;
    return null;
  }
  if (typeof value === "string") {
    if (spec.kind === "number" || spec.kind === "integer") return "Enter a number.";
    if (spec.minLength !== undefined && value.length < spec.minLength) {
      return spec.minLength === 1 ? "Required." : `At least ${spec.minLength} characters.`;
    }
    if (spec.maxLength !== undefined && value.length > spec.maxLength) return `At most ${spec.maxLength} characters.`;
    if (spec.pattern !== undefined) {
      try {
        if (!new RegExp(spec.pattern, "u").test(value)) return "Not in the expected form.";
      } catch {
        return null; // a pattern JavaScript cannot read: leave it to the server
      }
    }
    return null;
  }
  if (typeof value === "boolean") {
    return spec.kind === "scalar" && spec.scalarTypes?.includes("boolean") ? null : "Expected a value of another type.";
  }
  return "Expected a value of another type.";
}

/** Checks a whole object of values; returns field → message for the fields that fail. */
export function checkValues(fields: FieldSpec[], values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const problem = checkValue(f, values[f.name]);
    if (problem) out[f.name] = problem;
  }
  return out;
}

/** The defaults of a schema's properties, as an install or run form starts with them. */
export function defaultsOf(schema: JsonSchema | undefined | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of describeSchema(schema)) if (f.default !== undefined) out[f.name] = structuredClone(f.default);
  return out;
}
