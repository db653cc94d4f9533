import { describe, expect, it } from "vitest";
import registryJson from "../__fixtures__/node-types.json";
import warehouse from "../__fixtures__/warehouse-graph.json";
import type { Registry } from "../registry/types";
import type { JsonSchema } from "../graph/types";
import {
  checkValue,
  checkValues,
  convertScalar,
  defaultsOf,
  describeField,
  describeSchema,
  parseJsonText,
  parseNumberText,
  parseStringList,
  scalarTypeOf,
  type FieldSpec,
} from "./schemaForm";

const registry = registryJson as unknown as Registry;
const fieldOf = (type: string, name: string): FieldSpec => {
  const t = registry.node_types.find((x) => x.type === type)!;
  return describeSchema(t.params_schema).find((f) => f.name === name)!;
};

describe("fields from the registry's params schemas", () => {
  it("knows every kind of param the registry declares", () => {
    const kinds = new Set<string>();
    for (const t of registry.node_types) for (const f of describeSchema(t.params_schema)) kinds.add(f.kind);
    expect([...kinds].sort()).toEqual(["enum", "integer", "json", "number", "scalar", "string", "string-list"]);
  });

  it("makes an enum a select with its choices and default", () => {
    const f = fieldOf("action.alert", "severity");
    expect(f).toMatchObject({ kind: "enum", options: ["info", "warning", "critical"], default: "warning", title: "Severity", required: false });
    expect(checkValue(f, "warning")).toBeNull();
    expect(checkValue(f, "loud")).toMatch(/choices/);
  });

  it("makes a number with bounds, exclusive bounds included", () => {
    const cooldown = fieldOf("action.alert", "cooldown_s");
    expect(cooldown).toMatchObject({ kind: "number", minimum: 0, default: 0 });
    expect(checkValue(cooldown, -1)).toMatch(/At least 0/);
    const alpha = fieldOf("ewma", "alpha");
    expect(alpha).toMatchObject({ kind: "number", exclusiveMinimum: 0, maximum: 1, required: true });
    expect(checkValue(alpha, 0)).toMatch(/More than 0/);
    expect(checkValue(alpha, 1.5)).toMatch(/At most 1/);
    expect(checkValue(alpha, 0.3)).toBeNull();
    expect(checkValue(alpha, undefined)).toBe("Required.");
  });

  it("makes an integer that refuses fractions", () => {
    const count = fieldOf("debounce", "count");
    expect(count.kind).toBe("integer");
    expect(checkValue(count, 2.5)).toMatch(/whole/);
    expect(checkValue(count, 0)).toMatch(/At least 1/);
    expect(checkValue(count, 3)).toBeNull();
  });

  it("makes a string checked against its pattern and length", () => {
    const key = fieldOf("source.telemetry", "key");
    expect(key.kind).toBe("string");
    expect(checkValue(key, "topic:3")).toBeNull();
    expect(checkValue(key, "payload:device_id")).toBeNull();
    expect(checkValue(key, "topic:x")).toMatch(/expected form/);
    const name = fieldOf("action.alert", "name");
    expect(checkValue(name, "")).toBe("Required.");
  });

  it("makes an object param (a payload schema) a JSON textarea", () => {
    const schema = fieldOf("source.telemetry", "schema");
    expect(schema).toMatchObject({ kind: "json", jsonTypes: ["object"], required: true });
    expect(checkValue(schema, { type: "object" })).toBeNull();
    expect(checkValue(schema, "text")).toMatch(/Expected object/);
  });

  it("makes an object-or-string param (a publish payload) a JSON textarea taking both", () => {
    const payload = fieldOf("action.publish", "payload");
    expect(payload).toMatchObject({ kind: "json", jsonTypes: ["object", "string"] });
    expect(checkValue(payload, { speed: "{speed}" })).toBeNull();
    expect(checkValue(payload, "{key} stop")).toBeNull();
    expect(checkValue(payload, 3)).toMatch(/Expected object or string/);
  });

  it("makes a list of strings one value a line", () => {
    const values = fieldOf("in_set", "values");
    expect(values.kind).toBe("string-list");
    expect(parseStringList("aisle\n dock \n\n")).toEqual(["aisle", "dock"]);
    expect(checkValue(values, ["a", "a"])).toMatch(/once/);
    expect(checkValue(values, ["a", "b"])).toBeNull();
  });

  it("makes a number-string-bool param a typed scalar", () => {
    const value = fieldOf("const", "value");
    expect(value).toMatchObject({ kind: "scalar", scalarTypes: ["number", "boolean", "string"] });
    expect(scalarTypeOf(8, value.scalarTypes!)).toBe("number");
    expect(scalarTypeOf(true, value.scalarTypes!)).toBe("boolean");
    expect(scalarTypeOf("dock", value.scalarTypes!)).toBe("string");
    expect(convertScalar("12", "number")).toBe(12);
    expect(convertScalar("x", "number")).toBe(0);
    expect(convertScalar(3, "string")).toBe("3");
    expect(convertScalar("true", "boolean")).toBe(true);
    expect(checkValue(value, true)).toBeNull();
  });

  it("makes nullable fields (null as a value)", () => {
    const ts = fieldOf("source.telemetry", "ts_field");
    expect(ts).toMatchObject({ kind: "string", nullable: true, default: "ts" });
    expect(checkValue(ts, null)).toBeNull();
    const age = fieldOf("source.telemetry", "max_age_s");
    expect(age).toMatchObject({ kind: "number", nullable: true, default: null });
    expect(checkValue(age, null)).toBeNull();
    expect(checkValue(age, 0)).toMatch(/More than 0/);
  });

  it("leaves a {$param} binding to the server", () => {
    expect(checkValue(fieldOf("ewma", "alpha"), { $param: "a" })).toBeNull();
  });

  it("has no fields for a type without params", () => {
    expect(describeSchema(registry.node_types.find((t) => t.type === "math.add")!.params_schema)).toEqual([]);
  });
});

describe("fields from blueprint parameter schemas", () => {
  const schema = (warehouse as unknown as { params: JsonSchema }).params;

  it("describes the built-in blueprint's parameters with titles and defaults", () => {
    const fields = describeSchema(schema);
    expect(fields.find((f) => f.name === "near_miss_frames")).toMatchObject({ kind: "integer", title: "Near-miss confirmation (frames)", default: 2, minimum: 1, maximum: 50 });
    expect(fields.find((f) => f.name === "command_topic")).toMatchObject({ kind: "string", minLength: 1 });
  });

  it("starts an install form from the defaults, which pass the checks", () => {
    const values = defaultsOf(schema);
    expect(values.aisle_speed_limit_kmh).toBe(8);
    expect(checkValues(describeSchema(schema), values)).toEqual({});
    expect(checkValues(describeSchema(schema), { ...values, person_probability: 2 })).toEqual({ person_probability: "At most 1." });
  });

  it("makes a boolean a checkbox", () => {
    const f = describeField("strict", { type: "boolean", default: false }, false);
    expect(f.kind).toBe("boolean");
    expect(checkValue(f, true)).toBeNull();
    expect(checkValue(f, "yes")).toMatch(/true or false/);
  });
});

describe("parsing what is typed", () => {
  it("parses numbers, and leaves an empty box unset", () => {
    expect(parseNumberText("", false)).toEqual({ ok: true, value: undefined });
    expect(parseNumberText(" 2.5 ", false)).toEqual({ ok: true, value: 2.5 });
    expect(parseNumberText("2.5", true)).toEqual({ ok: false, error: "Enter a whole number." });
    expect(parseNumberText("abc", false).ok).toBe(false);
  });

  it("parses JSON and reports where it breaks", () => {
    expect(parseJsonText('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    const bad = parseJsonText('{"a": }');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/^Not valid JSON/);
  });
});
