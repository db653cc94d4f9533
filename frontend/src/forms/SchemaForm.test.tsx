// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import registryJson from "../__fixtures__/node-types.json";
import type { Registry } from "../registry/types";
import { SchemaForm } from "./SchemaForm";

const registry = registryJson as unknown as Registry;
const schemaOf = (type: string) => registry.node_types.find((t) => t.type === type)!.params_schema;

function Harness({ type, initial, paramNames, onChange }: { type: string; initial: Record<string, unknown>; paramNames?: string[]; onChange?: (v: Record<string, unknown>) => void }) {
  const [values, setValues] = useState(initial);
  return (
    <SchemaForm
      schema={schemaOf(type)}
      values={values}
      paramNames={paramNames}
      onChange={(name, value) => {
        const next = { ...values };
        if (value === undefined) delete next[name];
        else next[name] = value;
        setValues(next);
        onChange?.(next);
      }}
    />
  );
}

afterEach(cleanup);

describe("<SchemaForm>", () => {
  it("renders an enum as a select and a number as a text box with its default", () => {
    const spy = vi.fn();
    render(<Harness type="action.alert" initial={{ name: "overspeed" }} onChange={spy} />);
    const severity = screen.getByTestId("field-severity") as HTMLSelectElement;
    expect(severity.tagName).toBe("SELECT");
    fireEvent.change(severity, { target: { value: "critical" } });
    expect(spy).toHaveBeenLastCalledWith({ name: "overspeed", severity: "critical" });
    const cooldown = screen.getByTestId("field-cooldown_s") as HTMLInputElement;
    expect(cooldown.placeholder).toBe("default: 0");
    fireEvent.change(cooldown, { target: { value: "30" } });
    expect(spy).toHaveBeenLastCalledWith({ name: "overspeed", severity: "critical", cooldown_s: 30 });
  });

  it("shows a JSON parse error and keeps the text until it parses", () => {
    const spy = vi.fn();
    render(<Harness type="source.telemetry" initial={{ topic: "a/+", key: "topic:1", schema: {} }} onChange={spy} />);
    const box = screen.getByTestId("field-schema") as HTMLTextAreaElement;
    expect(box.tagName).toBe("TEXTAREA");
    fireEvent.change(box, { target: { value: '{"type": ' } });
    expect(screen.getByText(/Not valid JSON/)).toBeTruthy();
    expect(box.value).toBe('{"type": ');
    expect(spy).not.toHaveBeenCalled();
    fireEvent.change(box, { target: { value: '{"type": "object"}' } });
    expect(spy).toHaveBeenLastCalledWith({ topic: "a/+", key: "topic:1", schema: { type: "object" } });
    expect(screen.queryByText(/Not valid JSON/)).toBeNull();
  });

  it("shows a pattern problem as you type", () => {
    render(<Harness type="source.telemetry" initial={{ topic: "a/+", key: "topic:1", schema: {} }} />);
    fireEvent.change(screen.getByTestId("field-key"), { target: { value: "somewhere" } });
    expect(screen.getByText("Not in the expected form.")).toBeTruthy();
  });

  it("binds a param to a blueprint parameter and back", () => {
    const spy = vi.fn();
    render(<Harness type="compare" initial={{ op: "gt", value: 8 }} paramNames={["speed_limit", "other"]} onChange={spy} />);
    fireEvent.click(screen.getByTestId("field-value-bind"));
    expect(spy).toHaveBeenLastCalledWith({ op: "gt", value: { $param: "speed_limit" } });
    fireEvent.change(screen.getByTestId("field-value-param"), { target: { value: "other" } });
    expect(spy).toHaveBeenLastCalledWith({ op: "gt", value: { $param: "other" } });
    fireEvent.click(screen.getByTestId("field-value-bind"));
    expect(spy).toHaveBeenLastCalledWith({ op: "gt" });
  });

  it("switches a scalar union's type", () => {
    const spy = vi.fn();
    render(<Harness type="const" initial={{ value: 5 }} onChange={spy} />);
    fireEvent.change(screen.getByTestId("field-value-type"), { target: { value: "boolean" } });
    expect(spy).toHaveBeenLastCalledWith({ value: false });
  });

  it("edits a list of strings one a line", () => {
    const spy = vi.fn();
    render(<Harness type="in_set" initial={{ values: ["aisle"] }} onChange={spy} />);
    fireEvent.change(screen.getByTestId("field-values"), { target: { value: "aisle\ndock" } });
    expect(spy).toHaveBeenLastCalledWith({ values: ["aisle", "dock"] });
  });

  it("renders a boolean as a checkbox", () => {
    const spy = vi.fn();
    render(
      <SchemaForm
        schema={{ type: "object", properties: { strict: { type: "boolean", title: "Strict", default: false } } }}
        values={{}}
        onChange={(name, value) => spy(name, value)}
      />,
    );
    const box = screen.getByLabelText("Strict") as HTMLInputElement;
    expect(box.type).toBe("checkbox");
    fireEvent.click(box);
    expect(spy).toHaveBeenCalledWith("strict", true);
  });

  it("sets a nullable param to none", () => {
    const spy = vi.fn();
    render(<Harness type="source.telemetry" initial={{ topic: "a", key: "topic:0", schema: {} }} onChange={spy} />);
    fireEvent.click(screen.getByTestId("field-ts_field-none"));
    expect(spy).toHaveBeenLastCalledWith({ topic: "a", key: "topic:0", schema: {}, ts_field: null });
  });
});
