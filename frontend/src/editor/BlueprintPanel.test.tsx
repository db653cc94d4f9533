// @vitest-environment jsdom
// The blueprint panel on the editor's store: parameter number boxes that follow undo and redo, and
// scenarios whose description, parameter values and expected actions are edited there.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import registryJson from "../__fixtures__/node-types.json";
import warehouse from "../__fixtures__/warehouse-graph.json";
import type { Scenario } from "../api/types";
import type { GraphDoc } from "../graph/types";
import type { Registry } from "../registry/types";
import { defaultRoutes, installFakeServer, type Call } from "../test/fakeServer";
import { BlueprintPanel } from "./BlueprintPanel";
import { editorStore } from "./store";

const registry = registryJson as unknown as Registry;
const TRACE = [
  { topic: "site/dc1/forklift/FL-07/telemetry", payload: { ts: 1000, speed_kmh: 6, zone: "aisle" } },
  { topic: "site/dc1/forklift/FL-07/telemetry", payload: { ts: 2000, speed_kmh: 11, zone: "aisle" }, arrival_ms: 1000 },
];
const RECORD = {
  action: "alert_overspeed",
  kind: "alert",
  key: "FL-07",
  ts: 2000,
  name: "overspeed",
  severity: "warning",
  message: "Forklift FL-07 at 11 km/h in the aisle (limit 8 km/h)",
  values: { speed_kmh: 11 },
};

let now = 1_000_000;
let errors: ReturnType<typeof vi.spyOn>;

function load(scenarios: Scenario[] = []) {
  editorStore.getState().setRegistry(registry);
  editorStore.getState().load({ graph: structuredClone(warehouse) as unknown as GraphDoc, readme: "", scenarios });
}

/** Lets the store's undo grouping (edits of one field within a second are one step) end. */
function later() {
  now += 5000;
}

const box = (testId: string) => screen.getByTestId(testId) as HTMLInputElement;
const scenarios = () => editorStore.getState().scenarios;

beforeEach(() => {
  vi.spyOn(Date, "now").mockImplementation(() => now);
  document.cookie = "csrftoken=tok123";
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(() => {
  const logged = [...errors.mock.calls];
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  expect(logged).toEqual([]); // no console errors (React's warnings among them)
});

describe("a parameter's number boxes", () => {
  it("show the store's value after undo and redo, but leave a half-typed number alone", () => {
    load();
    render(<BlueprintPanel readOnly={false} />);
    const def = "bp-param-default-aisle_speed_limit_kmh";
    const max = "bp-param-max-aisle_speed_limit_kmh";
    expect(box(def).value).toBe("8");
    fireEvent.change(box(def), { target: { value: "12" } });
    later();
    fireEvent.change(box(max), { target: { value: "40" } });
    later();
    const props = () => editorStore.getState().meta.params!.properties!.aisle_speed_limit_kmh;
    expect(props()).toMatchObject({ default: 12, maximum: 40 });

    act(() => editorStore.getState().undo());
    expect(props().maximum).toBe(25);
    expect(box(max).value).toBe("25");
    expect(box(def).value).toBe("12");
    act(() => editorStore.getState().undo());
    expect(box(def).value).toBe("8");
    act(() => editorStore.getState().redo());
    expect(box(def).value).toBe("12");

    // typing: "1." and "1e1" mean 1 and 10, and stay as typed; "-" is not a number yet
    fireEvent.change(box(def), { target: { value: "1." } });
    expect(props().default).toBe(1);
    expect(box(def).value).toBe("1.");
    fireEvent.change(box(def), { target: { value: "1e1" } });
    expect(props().default).toBe(10);
    expect(box(def).value).toBe("1e1");
    fireEvent.change(box(def), { target: { value: "-" } });
    expect(box(def).value).toBe("-");
    expect(screen.getByText("Enter a number.")).toBeTruthy();
    expect(props().default).toBe(10);
    // an undo while the box holds a half-typed number shows the store's value, without the error
    later();
    act(() => editorStore.getState().undo());
    expect(box(def).value).toBe("12");
    expect(screen.queryByText("Enter a number.")).toBeNull();
    // a cleared box is "no default", and undo brings the number back
    later();
    fireEvent.change(box(def), { target: { value: "" } });
    expect("default" in props()).toBe(false);
    expect(box(def).value).toBe("");
    act(() => editorStore.getState().undo());
    expect(box(def).value).toBe("12");
  });
});

describe("the scenarios", () => {
  const recorded: Scenario = {
    name: "Aisle overspeed",
    description: "FL-07 speeds up in an aisle.",
    params: { aisle_speed_limit_kmh: 8 },
    trace: TRACE,
    expected: [RECORD],
    expected_summary: { messages: 2, events: 2, accepted: 2, actions: 1 },
  };

  it("edit a scenario's description and parameter values, as one undo step per field", () => {
    load([structuredClone(recorded)]);
    render(<BlueprintPanel readOnly={false} tenant="demo" />);
    const card = screen.getByTestId("scenario-0");
    const description = within(card).getByTestId("scenario-description-0") as HTMLTextAreaElement;
    expect(description.value).toBe("FL-07 speeds up in an aisle.");
    fireEvent.change(description, { target: { value: "FL-07 speeds" } });
    fireEvent.change(description, { target: { value: "FL-07 speeds up to 11 km/h in an aisle." } });
    expect(scenarios()[0].description).toBe("FL-07 speeds up to 11 km/h in an aisle.");
    later();

    // the blueprint's parameters, blank for their default
    const limit = within(card).getByTestId("scenario-param-0-aisle_speed_limit_kmh") as HTMLInputElement;
    expect(limit.value).toBe("8");
    expect((within(card).getByTestId("scenario-param-0-dock_speed_limit_kmh") as HTMLInputElement).placeholder).toBe("default 5");
    fireEvent.change(limit, { target: { value: "10" } });
    fireEvent.change(within(card).getByTestId("scenario-param-0-near_miss_frames"), { target: { value: "3" } });
    expect(scenarios()[0].params).toEqual({ aisle_speed_limit_kmh: 10, near_miss_frames: 3 });
    fireEvent.change(limit, { target: { value: "" } });
    expect(scenarios()[0].params).toEqual({ near_miss_frames: 3 });
    later();

    act(() => editorStore.getState().undo());
    expect(scenarios()[0].params).toEqual({ aisle_speed_limit_kmh: 8 });
    expect(limit.value).toBe("8");
    act(() => editorStore.getState().undo());
    expect(scenarios()[0].description).toBe("FL-07 speeds up in an aisle.");
    expect(description.value).toBe("FL-07 speeds up in an aisle.");
    // the rest of the scenario is untouched
    expect(scenarios()[0]).toEqual(recorded);
  });

  it("follow a renamed blueprint parameter, and offer to drop a value of one that is gone", () => {
    load([structuredClone(recorded)]);
    render(<BlueprintPanel readOnly={false} tenant="demo" />);
    const name = screen.getByTestId("bp-param-name-aisle_speed_limit_kmh");
    fireEvent.change(name, { target: { value: "aisle_limit" } });
    fireEvent.blur(name);
    expect(scenarios()[0].params).toEqual({ aisle_limit: 8 });
    later();
    fireEvent.click(screen.getByTestId("bp-param-remove-aisle_limit"));
    expect(screen.getByText(/aisle_limit = 8 is not a parameter of this blueprint/)).toBeTruthy();
    fireEvent.click(screen.getByTestId("scenario-param-drop-0-aisle_limit"));
    expect(scenarios()[0].params).toEqual({});
  });

  it("show the expected actions, clear them, and re-record them from a replay", async () => {
    const table = defaultRoutes();
    const answer = {
      records: [RECORD, { ...RECORD, ts: 3000, values: { speed_kmh: 12 } }],
      summary: { messages: 2, events: 2, accepted: 2, actions: 2, rejected: {}, unmatched: 0 },
      series: {},
      counts: {},
      truncated: false,
    };
    table["POST /api/v1/t/demo/simulate"] = () => ({ body: answer });
    const calls: Call[] = installFakeServer(table);
    load([structuredClone(recorded)]);
    render(<BlueprintPanel readOnly={false} tenant="demo" />);
    const card = screen.getByTestId("scenario-0");
    expect(within(card).getByTestId("scenario-counts-0").textContent).toBe("2 messages · 1 expected action");
    const list = within(card).getByTestId("scenario-expected-0");
    expect(list.textContent).toContain("Expected actions (1)");
    expect(list.textContent).toContain("alert overspeed (FL-07)");
    expect(list.textContent).toContain("Forklift FL-07 at 11 km/h in the aisle (limit 8 km/h)");

    fireEvent.click(within(card).getByTestId("scenario-clear-0"));
    expect(scenarios()[0].expected).toEqual([]);
    expect("expected_summary" in scenarios()[0]).toBe(false);
    expect(within(card).getByTestId("scenario-expected-0").textContent).toContain("None: the scenario passes only if the trace produces no action");
    expect((within(card).getByTestId("scenario-clear-0") as HTMLButtonElement).disabled).toBe(true);
    act(() => editorStore.getState().undo());
    expect(scenarios()[0]).toEqual(recorded);
    later();

    fireEvent.click(within(card).getByTestId("scenario-record-0"));
    await screen.findByText("Recorded 2 expected actions from a replay of the graph as it is now.");
    const sim = calls.find((c) => c.path === "/api/v1/t/demo/simulate")!;
    expect(sim.body).toMatchObject({ params: { aisle_speed_limit_kmh: 8 }, trace: TRACE });
    expect((sim.body as { graph: GraphDoc }).graph.nodes.length).toBe(warehouse.nodes.length);
    expect(scenarios()[0]).toEqual({ ...recorded, expected: answer.records, expected_summary: answer.summary });
    expect(within(card).getByTestId("scenario-counts-0").textContent).toBe("2 messages · 2 expected actions");
  });

  it("do not record a replay that was cut short, or an invalid graph's", async () => {
    const table = defaultRoutes();
    let truncated = true;
    table["POST /api/v1/t/demo/simulate"] = () =>
      truncated
        ? { body: { records: [RECORD], summary: {}, series: {}, counts: {}, truncated: true } }
        : { status: 400, body: { error: { code: "validation", message: "the graph has 1 problem(s)", field: "graph" } } };
    installFakeServer(table);
    load([structuredClone(recorded)]);
    render(<BlueprintPanel readOnly={false} tenant="demo" />);
    fireEvent.click(screen.getByTestId("scenario-record-0"));
    expect((await screen.findByRole("alert")).textContent).toContain("cut short");
    truncated = false;
    fireEvent.click(screen.getByTestId("scenario-record-0"));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("the graph has 1 problem(s)"));
    expect(scenarios()[0]).toEqual(recorded);
  });

  it("a reader sees a scenario's expected actions and no controls to change it", () => {
    load([structuredClone(recorded)]);
    render(<BlueprintPanel readOnly={true} />);
    const card = screen.getByTestId("scenario-0");
    expect(within(card).getByTestId("scenario-expected-0").textContent).toContain("alert overspeed (FL-07)");
    expect((within(card).getByTestId("scenario-description-0") as HTMLTextAreaElement).disabled).toBe(true);
    expect((within(card).getByTestId("scenario-param-0-aisle_speed_limit_kmh") as HTMLInputElement).disabled).toBe(true);
    expect(within(card).queryByTestId("scenario-record-0")).toBeNull();
    expect(within(card).queryByTestId("scenario-clear-0")).toBeNull();
    expect(within(card).queryByText("Remove")).toBeNull();
    expect(screen.queryByTestId("scenario-upload")).toBeNull();
    expect(errors).not.toHaveBeenCalled();
  });
});
