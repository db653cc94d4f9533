import { describe, expect, it } from "vitest";
import { parseTrace } from "./trace";

describe("parseTrace", () => {
  it("reads JSON lines and skips blank ones", () => {
    const t = parseTrace('{"topic":"a","payload":{"x":1},"arrival_ms":5}\n\n{"topic":"b","payload":null}\n');
    expect(t.errors).toEqual([]);
    expect(t.lines).toEqual([
      { topic: "a", payload: { x: 1 }, arrival_ms: 5 },
      { topic: "b", payload: null },
    ]);
  });

  it("names the line of each error", () => {
    const t = parseTrace('{"topic":"a","arrival_ms":5}\nnot json\n{"payload":{}}\n{"topic":"c","arrival_ms":3}');
    expect(t.errors).toHaveLength(3);
    expect(t.errors[0]).toMatch(/^line 2: not JSON/);
    expect(t.errors[1]).toMatch(/^line 3: expected an object with a string "topic"/);
    expect(t.errors[2]).toMatch(/^line 4: "arrival_ms" goes backwards/);
  });
});
