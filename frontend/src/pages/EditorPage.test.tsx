// @vitest-environment jsdom
// The editor against a fake studio: the palette, editing by keyboard, the blueprint panel, replay of
// an uploaded trace, saving a replay as a scenario, and unsaved work kept when leaving.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { routes } from "../App";
import registryJson from "../__fixtures__/node-types.json";
import type { Registry } from "../registry/types";
import { defaultRoutes, installDomShims, installFakeServer, FakeWebSocket, version, type Call } from "../test/fakeServer";
import { editorStore } from "../editor/store";
import { draftKey } from "../editor/drafts";

const registry = registryJson as unknown as Registry;
const EDITOR = "/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0";
const DRAFT = draftKey("demo", "smart-warehouse-safety");
let calls: Call[];
let errors: ReturnType<typeof vi.spyOn>;

async function openEditor() {
  calls = installFakeServer(defaultRoutes());
  const router = createMemoryRouter(routes, { initialEntries: [EDITOR] });
  render(<RouterProvider router={router} />);
  await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
  return router;
}

function upload(input: HTMLElement, name: string, text: string) {
  fireEvent.change(input, { target: { files: [new File([text], name, { type: "application/jsonl" })] } });
}

const nodeIds = () => editorStore.getState().nodes.map((n) => n.id);

beforeEach(() => {
  installDomShims();
  FakeWebSocket.instances = [];
  localStorage.clear();
  document.cookie = "csrftoken=tok123";
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  errors.mockRestore();
});

describe("the editor", () => {
  it("shows the registry's node types in its groups, and finds them by name or description", async () => {
    await openEditor();
    const palette = screen.getByRole("complementary", { name: "Node types" });
    const titles = within(palette).getAllByRole("heading").map((h) => h.textContent);
    expect(titles).toEqual(registry.groups.filter((g) => registry.node_types.some((t) => t.group === g.id)).map((g) => g.title));
    expect(palette.querySelectorAll(".palette-item")).toHaveLength(registry.node_types.length);
    fireEvent.change(screen.getByTestId("palette-search"), { target: { value: "Hysteresis" } });
    expect([...palette.querySelectorAll(".palette-item")].map((b) => b.textContent)).toEqual(["hysteresis"]);
    expect(within(palette).getAllByRole("heading").map((h) => h.textContent)).toEqual(["Windows and state"]);
    fireEvent.change(screen.getByTestId("palette-search"), { target: { value: "no such node" } });
    expect(within(palette).getByText("No node type matches.")).toBeTruthy();
    // the mini map is there while the replay panel is closed
    expect(document.querySelector(".react-flow__minimap")).toBeTruthy();
  });

  it("wires, copies, pastes and deletes from the keyboard", async () => {
    await openEditor();
    fireEvent.click(screen.getByTestId("palette-math.abs")); // a keyboard user presses the button
    const inspector = await screen.findByTestId("inspector");
    const connect = within(inspector).getByTestId("connect-in") as HTMLSelectElement;
    const offered = [...connect.options].map((o) => o.value).filter(Boolean);
    // the same registry check as a dragged wire: number fields yes, records and actions no
    expect(offered).toContain("speed");
    expect(offered).not.toContain("forklift");
    expect(offered).not.toContain("alert_overspeed");
    fireEvent.change(connect, { target: { value: "speed" } });
    expect(editorStore.getState().toGraph().edges).toContainEqual({ from: "speed", to: "abs_1.in" });
    expect(within(screen.getByTestId("inspector")).queryByTestId("connect-in")).toBeNull();

    fireEvent.keyDown(window, { key: "c", ctrlKey: true });
    fireEvent.keyDown(window, { key: "v", ctrlKey: true });
    expect(nodeIds()).toContain("abs_2");
    expect(editorStore.getState().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["abs_2"]);
    fireEvent.keyDown(window, { key: "Delete" });
    expect(nodeIds()).not.toContain("abs_2");
    expect(nodeIds()).toContain("abs_1");
    fireEvent.keyDown(window, { key: "z", ctrlKey: true });
    expect(nodeIds()).toContain("abs_2");
    fireEvent.keyDown(window, { key: "z", ctrlKey: true, shiftKey: true });
    expect(nodeIds()).not.toContain("abs_2");
  });

  it("saves the blueprint's parameters, README and scenarios with the graph, and a param bound to a parameter", async () => {
    const table = defaultRoutes();
    table["POST /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/"] = (c) => ({
      status: 201,
      body: { version: "1.0.1", state: "draft", ...(c.body as object), created_at: "" },
    });
    calls = installFakeServer(table);
    const router = createMemoryRouter(routes, { initialEntries: [EDITOR] });
    render(<RouterProvider router={router} />);
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });

    fireEvent.click(screen.getByTestId("tab-blueprint"));
    fireEvent.change(screen.getByTestId("bp-param-new-name"), { target: { value: "max_speed" } });
    fireEvent.click(screen.getByTestId("bp-param-add"));
    fireEvent.change(screen.getByTestId("bp-param-default-max_speed"), { target: { value: "12" } });
    fireEvent.change(screen.getByTestId("bp-param-max-max_speed"), { target: { value: "40" } });
    fireEvent.change(screen.getByTestId("readme"), { target: { value: "# Warehouse\n\nNow with a speed cap." } });
    upload(screen.getByTestId("scenario-upload"), "fast-forklift.jsonl", '{"topic": "site/a/forklift/FL-1/telemetry", "payload": {"ts": 1, "speed_kmh": 20}}\n');
    await screen.findByTestId("scenario-1");

    fireEvent.click(screen.getByTestId("palette-compare"));
    fireEvent.click(await screen.findByTestId("param-value-bind"));
    fireEvent.change(screen.getByTestId("param-value-param"), { target: { value: "max_speed" } });

    fireEvent.click(screen.getByTestId("save-button"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.1"));
    const body = calls.find((c) => c.method === "POST" && c.path.endsWith("/versions/"))!.body as {
      graph: { params: { properties: Record<string, unknown> }; nodes: { id: string; params: Record<string, unknown> }[] };
      readme: string;
      scenarios: { name: string; trace: unknown[]; expected: unknown[] }[];
    };
    expect(body.graph.params.properties.max_speed).toEqual({ type: "number", default: 12, maximum: 40 });
    expect(body.graph.nodes.find((n) => n.id === "compare_1")!.params.value).toEqual({ $param: "max_speed" });
    expect(body.readme).toBe("# Warehouse\n\nNow with a speed cap.");
    expect(body.scenarios.map((s) => s.name)).toEqual(["Near miss", "fast-forklift"]);
    expect(body.scenarios[1].trace).toEqual([{ topic: "site/a/forklift/FL-1/telemetry", payload: { ts: 1, speed_kmh: 20 } }]);
  });

  it("replays an uploaded trace, and falls back to an upload when the picked scenario is removed", async () => {
    await openEditor();
    fireEvent.click(screen.getByTestId("replay-button"));
    const source = screen.getByTestId("replay-source") as HTMLSelectElement;
    expect(source.value).toBe("0");

    // the scenario is removed in the blueprint panel while the replay panel shows it
    fireEvent.click(screen.getByTestId("tab-blueprint"));
    fireEvent.click(within(screen.getByTestId("scenario-0")).getByText("Remove"));
    expect(source.value).toBe("upload");
    fireEvent.click(screen.getByTestId("replay-run"));
    expect((await screen.findByText("Choose a .jsonl trace file first.")).closest("[role=alert]")).toBeTruthy();
    expect(calls.some((c) => c.path.endsWith("/simulate"))).toBe(false);

    const lines = [
      { topic: "site/dc1/forklift/FL-07/telemetry", payload: { ts: 1000, speed_kmh: 6, zone: "aisle" } },
      { topic: "site/dc1/forklift/FL-07/telemetry", payload: { ts: 2000, speed_kmh: 11, zone: "aisle" }, arrival_ms: 1000 },
    ];
    upload(screen.getByTestId("replay-upload"), "trace.jsonl", lines.map((l) => JSON.stringify(l)).join("\n"));
    await act(async () => void (await new Promise((r) => setTimeout(r, 50)))); // the file is read asynchronously
    fireEvent.click(screen.getByTestId("replay-run"));
    await screen.findByTestId("timeline");
    const sim = calls.find((c) => c.path === "/api/v1/t/demo/simulate")!;
    expect((sim.body as { trace: unknown[]; params: unknown }).trace).toEqual(lines);
    expect((sim.body as { params: unknown }).params).toEqual({});
    expect(screen.getByTestId("alert-marker-0")).toBeTruthy();
  });

  it("saves a replay as a scenario that expects its actions, and records a scenario's expected actions", async () => {
    const table = defaultRoutes();
    table["POST /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/"] = (c) => ({
      status: 201,
      body: { version: "1.0.1", state: "draft", ...(c.body as object), created_at: "" },
    });
    calls = installFakeServer(table);
    const router = createMemoryRouter(routes, { initialEntries: [EDITOR] });
    render(<RouterProvider router={router} />);
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    const answer = table["POST /api/v1/t/demo/simulate"]!({ method: "POST", path: "", body: null, headers: {} })!.body as {
      records: unknown[];
      summary: unknown;
    };
    const nearMiss = editorStore.getState().scenarios[0];

    // the scenario runs with a stricter aisle limit, set in the blueprint panel
    fireEvent.click(screen.getByTestId("tab-blueprint"));
    fireEvent.change(screen.getByTestId("scenario-param-0-aisle_speed_limit_kmh"), { target: { value: "6" } });
    fireEvent.click(screen.getByTestId("replay-button"));
    fireEvent.click(screen.getByTestId("replay-run"));
    await screen.findByTestId("timeline");
    const sim = calls.find((c) => c.path === "/api/v1/t/demo/simulate")!;
    expect(sim.body).toMatchObject({ params: { aisle_speed_limit_kmh: 6 }, trace: nearMiss.trace });
    expect(screen.getByTestId("replay-vs-expected").textContent).toBe("The replay produced 1 action; “Near miss” expects 0.");

    // a new scenario: this trace, these parameter values, and the replay's actions as the expected ones
    const name = screen.getByTestId("save-scenario-name") as HTMLInputElement;
    expect(name.value).toBe("Near miss (recorded)");
    fireEvent.change(name, { target: { value: "Near miss" } });
    expect(screen.getByText("There is already a scenario named “Near miss”.")).toBeTruthy();
    expect((screen.getByTestId("save-scenario-button") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(name, { target: { value: "Aisle overspeed at 6 km/h" } });
    fireEvent.change(screen.getByTestId("save-scenario-description"), { target: { value: "FL-07 drives 11 km/h in an aisle limited to 6." } });
    fireEvent.click(screen.getByTestId("save-scenario-button"));
    expect(screen.getByTestId("save-scenario-done").textContent).toContain("“Aisle overspeed at 6 km/h” with 1 expected action");
    const saved = {
      name: "Aisle overspeed at 6 km/h",
      description: "FL-07 drives 11 km/h in an aisle limited to 6.",
      params: { aisle_speed_limit_kmh: 6 },
      trace: nearMiss.trace,
      expected: answer.records,
      expected_summary: answer.summary,
    };
    expect(editorStore.getState().scenarios[1]).toEqual(saved);
    expect(within(screen.getByTestId("scenario-1")).getByTestId("scenario-expected-1").textContent).toContain("alert overspeed (FL-07)");

    // …and the replayed scenario now expects them too
    fireEvent.click(screen.getByTestId("record-expected-button"));
    expect(editorStore.getState().scenarios[0]).toEqual({
      ...nearMiss,
      params: { aisle_speed_limit_kmh: 6 },
      expected: answer.records,
      expected_summary: answer.summary,
    });
    expect(screen.getByTestId("replay-vs-expected").textContent).toBe("The replay produced exactly the actions “Near miss” expects.");
    expect(screen.queryByTestId("record-expected-button")).toBeNull();

    // once the graph changes, this replay's actions are not what it computes: nothing is recorded from it
    fireEvent.click(screen.getByTestId("palette-logic.not"));
    expect(screen.getByTestId("save-scenario-blocked").textContent).toContain("The graph changed since this replay");
    expect(screen.queryByTestId("save-scenario-button")).toBeNull();
    // undone, the graph computes what the replay ran again
    act(() => editorStore.getState().undo());
    expect(screen.queryByTestId("save-scenario-blocked")).toBeNull();
    expect(screen.getByTestId("save-scenario-button")).toBeTruthy();

    fireEvent.click(screen.getByTestId("save-button"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.1"));
    const body = calls.find((c) => c.method === "POST" && c.path.endsWith("/versions/"))!.body as { scenarios: unknown[] };
    expect(body.scenarios).toEqual([
      { ...nearMiss, params: { aisle_speed_limit_kmh: 6 }, expected: answer.records, expected_summary: answer.summary },
      saved,
    ]);
    expect(errors).not.toHaveBeenCalled();
  });

  it("tells whether a replay gives a scenario's expected actions and summary", async () => {
    const table = defaultRoutes();
    const answer = table["POST /api/v1/t/demo/simulate"]!({ method: "POST", path: "", body: null, headers: {} })!.body as {
      records: unknown[];
      summary: unknown;
    };
    const stale = { ...version, scenarios: [{ ...version.scenarios[0], expected: answer.records, expected_summary: { messages: 9 } }] };
    table["GET /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/1.0.0/"] = () => ({ body: stale });
    calls = installFakeServer(table);
    render(<RouterProvider router={createMemoryRouter(routes, { initialEntries: [EDITOR] })} />);
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId("replay-button"));
    fireEvent.click(screen.getByTestId("replay-run"));
    await screen.findByTestId("timeline");
    expect(screen.getByTestId("replay-vs-expected").textContent).toBe(
      "The replay produced the actions “Near miss” expects, but another summary (events, rejects).",
    );
    fireEvent.click(screen.getByTestId("record-expected-button"));
    expect(editorStore.getState().scenarios[0].expected_summary).toEqual(answer.summary);
    expect(screen.getByTestId("replay-vs-expected").textContent).toBe("The replay produced exactly the actions “Near miss” expects.");
  });

  it("does not save a replay that was cut short as a scenario", async () => {
    const table = defaultRoutes();
    const simulateAnswer = table["POST /api/v1/t/demo/simulate"]!;
    table["POST /api/v1/t/demo/simulate"] = (c) => ({ body: { ...(simulateAnswer(c)!.body as object), truncated: true } });
    calls = installFakeServer(table);
    const router = createMemoryRouter(routes, { initialEntries: [EDITOR] });
    render(<RouterProvider router={router} />);
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId("replay-button"));
    fireEvent.click(screen.getByTestId("replay-run"));
    await screen.findByTestId("timeline");
    expect(screen.getByTestId("save-scenario-blocked").textContent).toContain("cut short");
    expect(screen.queryByTestId("save-scenario-button")).toBeNull();
    expect(screen.queryByTestId("record-expected-button")).toBeNull();
  });

  it("keeps the last edits as a draft when the user leaves at once, or the page goes away", async () => {
    const router = await openEditor();
    fireEvent.click(screen.getByTestId("palette-logic.not"));
    act(() => void router.navigate("/t/demo"));
    fireEvent.click(await screen.findByTestId("leave-go"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo"));
    const kept = JSON.parse(localStorage.getItem(DRAFT) ?? "null");
    expect(kept?.graph.nodes.map((n: { id: string }) => n.id)).toContain("not_1");
    expect(kept.baseVersion).toBe("1.0.0");

    // back in the editor, the work is offered back
    act(() => void router.navigate(EDITOR));
    fireEvent.click(await screen.findByTestId("draft-restore", {}, { timeout: 5000 }));
    expect(nodeIds()).toContain("not_1");
    expect(screen.getByTestId("save-state").textContent).toBe("Unsaved changes");
    expect(screen.queryByTestId("draft-banner")).toBeNull();

    cleanup();
    localStorage.clear();
    await openEditor();
    fireEvent.click(screen.getByTestId("palette-math.abs"));
    act(() => void window.dispatchEvent(new Event("pagehide")));
    expect(JSON.parse(localStorage.getItem(DRAFT) ?? "null")?.graph.nodes.map((n: { id: string }) => n.id)).toContain("abs_1");
  });
});
