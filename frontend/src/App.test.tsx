// @vitest-environment jsdom
// The app against a fake studio: sign-in state, the dashboard's live updates, the editor.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { routes } from "./App";
import { defaultRoutes, me, version, FakeWebSocket, installDomShims, installFakeServer, type Call } from "./test/fakeServer";
import { editorStore } from "./editor/store";

let calls: Call[];
const fetchedUrls = () => (fetch as unknown as { mock: { calls: [string][] } }).mock.calls.map((c) => String(c[0]));
let errors: ReturnType<typeof vi.spyOn>;

function renderAt(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  render(<RouterProvider router={router} />);
  return router;
}

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

describe("the app", () => {
  it("sends a visitor without a session to the sign-in page, and signs in with the CSRF header", async () => {
    let signedIn = false;
    const table = defaultRoutes();
    const meRoute = table["GET /api/v1/auth/me"];
    table["GET /api/v1/auth/me"] = (c) => (signedIn ? meRoute(c) : { status: 403, body: { error: { code: "not_authenticated", message: "sign in" } } });
    table["POST /api/v1/auth/login"] = () => {
      signedIn = true;
      return { body: {} };
    };
    calls = installFakeServer(table);
    const router = renderAt("/t/demo/blueprints/smart-warehouse-safety");
    await screen.findByTestId("login-submit");
    expect(router.state.location.pathname).toBe("/login");
    fireEvent.change(screen.getByTestId("login-username"), { target: { value: "alice" } });
    fireEvent.change(screen.getByTestId("login-password"), { target: { value: "pw" } });
    fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/blueprints/smart-warehouse-safety"));
    const login = calls.find((c) => c.path === "/api/v1/auth/login")!;
    expect(login.body).toEqual({ username: "alice", password: "pw" });
    expect(login.headers["X-CSRFToken"]).toBe("tok123");
  });

  it("shows devices and alerts, and follows live device.status and alert messages", async () => {
    calls = installFakeServer(defaultRoutes());
    renderAt("/t/demo");
    const row = await screen.findByTestId("device-gw-1");
    expect(within(row).getByTestId("device-state-gw-1").textContent).toBe("offline");
    await screen.findByTestId("alert-7");
    // a designer may not acknowledge: the button is not offered
    expect(screen.queryByTestId("ack-7")).toBeNull();
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    const ws = FakeWebSocket.instances.at(-1)!;
    expect(ws.url).toMatch(/\/ws\/live\/\?tenant=demo$/);
    act(() =>
      ws.push({
        type: "device.status",
        tenant: "demo",
        data: { device_id: "gw-1", state: "online", last_status: { state: "online", bundle: "b1", events_in: 50, uptime_s: 10, eval_ms: { p50: 0.1, p99: 0.8 } } },
      }),
    );
    expect(within(row).getByTestId("device-state-gw-1").textContent).toBe("online");
    expect(within(row).getByTestId("device-rate-gw-1").textContent).toBe("5.0");
    expect(within(row).getByTestId("device-p99-gw-1").textContent).toBe("0.80");
    act(() =>
      ws.push({
        type: "alert",
        tenant: "demo",
        data: { id: 8, device: "gw-1", action: "a", name: "near_miss", severity: "critical", message: "near miss", key: "FL-07", ts: 2000, values: {}, received_at: "", acknowledged_by: null, acknowledged_at: null },
      }),
    );
    expect(screen.getByTestId("alert-8")).toBeTruthy();
    expect(errors).not.toHaveBeenCalled();
  });

  it("offers the Admin pages only to admins", async () => {
    calls = installFakeServer(defaultRoutes());
    renderAt("/t/demo");
    await screen.findByTestId("nav-blueprints");
    expect(screen.queryByTestId("nav-admin")).toBeNull();
  });

  it("opens a version in the editor: nodes, handles, problems on the node, replay counts", async () => {
    calls = installFakeServer(defaultRoutes());
    renderAt("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0");
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    expect(screen.getByTestId("palette-compare")).toBeTruthy();
    expect(screen.getByTestId("handle-near_miss_now-in4")).toBeTruthy(); // the spare variadic slot
    expect(screen.getByTestId("handle-alert_near_miss-speed_kmh")).toBeTruthy();
    expect(screen.getByTestId("save-button")).toHaveProperty("disabled", true);

    // validation runs after the debounce and marks the node it names
    await screen.findByTestId("node-problem-overspeed", {}, { timeout: 3000 });
    fireEvent.click(screen.getByTestId("tab-problems"));
    fireEvent.click(screen.getByTestId("problem-0"));
    expect(editorStore.getState().nodes.find((n) => n.id === "overspeed")?.selected).toBe(true);

    // adding a node from the palette makes the version dirty and keeps a local draft
    fireEvent.click(screen.getByTestId("palette-math.abs"));
    expect(screen.getByTestId("save-state").textContent).toBe("Unsaved changes");
    await waitFor(() => expect(localStorage.getItem("aiot.draft.v1.demo.smart-warehouse-safety")).toBeTruthy(), { timeout: 2000 });
    fireEvent.keyDown(window, { key: "z", ctrlKey: true });
    expect(editorStore.getState().nodes.some((n) => n.id === "abs_1")).toBe(false);

    // replay
    fireEvent.click(screen.getByTestId("replay-button"));
    fireEvent.click(screen.getByTestId("series-toggle-speed"));
    fireEvent.click(screen.getByTestId("replay-run"));
    await screen.findByTestId("timeline");
    const sim = calls.find((c) => c.path === "/api/v1/t/demo/simulate")!;
    expect((sim.body as { series: string[] }).series).toContain("speed");
    expect((sim.body as { trace: unknown[] }).trace).toHaveLength(1);
    expect(screen.getByTestId("node-counts-alert_overspeed").textContent).toMatch(/2 eval · 1 fired/);
    fireEvent.click(screen.getByTestId("alert-marker-0"));
    expect(screen.getByTestId("record-detail").textContent).toMatch(/speed_kmh/);
    // jsdom has no layout: the animated zoom to the clicked problem's node computes NaN there
    const real = errors.mock.calls.filter((c: unknown[]) => !String(c[0]).startsWith("Received NaN for the"));
    expect(real).toEqual([]);
  });

  it("saves a new draft version and moves to it", async () => {
    const table = defaultRoutes();
    table["POST /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/"] = (c) => ({
      status: 201,
      body: { version: "1.0.1", state: "draft", ...(c.body as object), created_at: "" },
    });
    table["GET /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/1.0.1/"] = () => ({ body: { version: "1.0.1", state: "draft", graph: {}, readme: "", scenarios: [], created_at: "" } });
    calls = installFakeServer(table);
    const router = renderAt("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0");
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId("palette-logic.not"));
    fireEvent.click(screen.getByTestId("save-button"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.1"));
    const post = calls.find((c) => c.method === "POST" && c.path.endsWith("/versions/"))!;
    const body = post.body as { graph: { nodes: { id: string }[] }; base_version: string; scenarios: unknown[] };
    expect(body.base_version).toBe("1.0.0");
    expect(body.graph.nodes.some((n) => n.id === "not_1")).toBe(true);
    expect(body.scenarios).toHaveLength(1);
    expect(screen.getByTestId("save-state").textContent).toBe("Saved");
    expect(localStorage.getItem("aiot.draft.v1.demo.smart-warehouse-safety")).toBeNull();
    // the saved version is not fetched again over the graph on screen
    expect(calls.some((c) => c.path.endsWith("/versions/1.0.1/"))).toBe(false);
  });

  it("compiles a saved version, following compile.progress to the bundle", async () => {
    const table = defaultRoutes();
    table["POST /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/1.0.0/compile"] = () => ({ status: 202, body: { task_id: "t-1" } });
    table["GET /api/v1/t/demo/tasks/t-1"] = () => ({ body: { task_id: "t-1", state: "PENDING", progress: null, result: null } });
    table["GET /api/v1/t/demo/bundles/abc123/"] = () => ({
      body: { bundle_id: "abc123", blueprint: "smart-warehouse-safety", version: "1.0.0", params: {}, size: 20480, created_by: "alice", created_at: "", download_url: "/api/v1/t/demo/bundles/abc123/download" },
    });
    calls = installFakeServer(table);
    renderAt("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0");
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId("compile-button"));
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/compile"))).toBe(true));
    const ws = FakeWebSocket.instances.at(-1)!;
    await waitFor(() => expect(screen.queryByTestId("compile-progress")).toBeTruthy());
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
      ws.push({ type: "compile.progress", tenant: "demo", data: { task_id: "other", step: "x", progress: 0.9, state: "running" } });
      ws.push({ type: "compile.progress", tenant: "demo", data: { task_id: "t-1", blueprint: "smart-warehouse-safety", version: "1.0.0", step: "lowering", progress: 0.5, state: "running" } });
    });
    expect(screen.getByTestId("compile-progress").getAttribute("aria-valuenow")).toBe("50");
    act(() =>
      ws.push({ type: "compile.progress", tenant: "demo", data: { task_id: "t-1", step: "signed", progress: 1, state: "success", bundle_id: "abc123" } }),
    );
    await screen.findByTestId("compile-result");
    expect(screen.getByTestId("bundle-id").textContent).toBe("abc123");
    expect(screen.getByTestId("bundle-size").textContent).toBe("20.0 KiB");
    expect(screen.getByTestId("bundle-download").getAttribute("href")).toBe("/api/v1/t/demo/bundles/abc123/download");
  });

  it("keeps the compile.progress messages that come before the compile request's answer", async () => {
    const table = defaultRoutes();
    table["POST /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/1.0.0/compile"] = () => {
      // a quick worker: the whole compilation is reported before the task id reaches the browser
      const ws = FakeWebSocket.instances.at(-1)!;
      ws.push({ type: "compile.progress", tenant: "demo", data: { task_id: "t-2", step: "compile", progress: 0.3, state: "running" } });
      ws.push({ type: "compile.progress", tenant: "demo", data: { task_id: "t-2", step: "done", progress: 1, state: "done", bundle_id: "fast1" } });
      return { status: 202, body: { task_id: "t-2" } };
    };
    table["GET /api/v1/t/demo/tasks/t-2"] = () => ({ body: { task_id: "t-2", state: "PENDING", progress: null, result: null } });
    table["GET /api/v1/t/demo/bundles/fast1/"] = () => ({
      body: { bundle_id: "fast1", blueprint: "smart-warehouse-safety", version: "1.0.0", params: {}, size: 1024, created_by: "alice", created_at: "", download_url: "/api/v1/t/demo/bundles/fast1/download" },
    });
    calls = installFakeServer(table);
    renderAt("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0");
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId("compile-button"));
    await screen.findByTestId("compile-result", {}, { timeout: 1500 });
    expect(screen.getByTestId("bundle-id").textContent).toBe("fast1");
    expect(calls.some((c) => c.path.endsWith("/tasks/t-2"))).toBe(false);
  });

  it("lets an operator acknowledge an alert, and offers no editing", async () => {
    const table = defaultRoutes();
    for (const k of Object.keys(table)) if (k.includes("/t/demo/")) table[k.replace("/t/demo/", "/t/ops/")] = table[k];
    table["POST /api/v1/t/ops/alerts/7/acknowledge"] = () => ({
      body: { id: 7, device: "gw-1", action: "a", name: "overspeed", severity: "warning", message: "FL-07 too fast", key: "FL-07", ts: 1000, values: {}, received_at: "", acknowledged_by: "alice", acknowledged_at: "2026-01-01T00:00:00Z" },
    });
    calls = installFakeServer(table);
    renderAt("/t/ops");
    fireEvent.click(await screen.findByTestId("ack-7"));
    await waitFor(() => expect(screen.getByTestId("alert-7").textContent).toMatch(/acknowledged by alice/));
    expect(calls.find((c) => c.path.endsWith("/acknowledge"))?.headers["X-CSRFToken"]).toBe("tok123");
    cleanup();
    renderAt("/t/ops/blueprints/smart-warehouse-safety/edit/1.0.0");
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    expect(screen.queryByTestId("save-button")).toBeNull();
    expect(screen.queryByTestId("compile-button")).toBeNull();
    expect(screen.queryByTestId("replay-button")).toBeNull();
    expect(screen.getByTestId("palette-compare")).toHaveProperty("disabled", true);
  });

  it("installs a catalog blueprint with a form from its params schema", async () => {
    const table = defaultRoutes();
    table["GET /api/v1/catalog/"] = () => ({
      body: {
        count: 1,
        results: [
          {
            id: 3, tenant: "acme", slug: "cold-chain", title: "Cold Chain Monitor", description: "Keeps it cold", category: "food", tags: ["cold"], version: "1.2.0", readme: "# Cold",
            params_schema: { type: "object", properties: { max_temp_c: { type: "number", title: "Max temperature", default: 8, maximum: 30 } } },
            certificate: { id: "c" },
          },
        ],
      },
    });
    table["POST /api/v1/catalog/3/install"] = (c) => ({ status: 201, body: { tenant: "demo", slug: (c.body as { slug: string }).slug, version: "1.2.0" } });
    table["GET /api/v1/t/demo/blueprints/my-cold/"] = () => ({ body: { slug: "my-cold", title: "Cold", description: "", category: "", tags: [], latest_version: { version: "0.1.0", state: "draft", created_at: "2026-01-01T00:00:00Z", submitted_at: null }, versions_count: 1 } });
    table["GET /api/v1/t/demo/blueprints/my-cold/versions/"] = () => ({ body: [] });
    calls = installFakeServer(table);
    const router = renderAt("/t/demo/catalog");
    fireEvent.click(await screen.findByTestId("install-3"));
    const temp = screen.getByTestId("install-param-max_temp_c") as HTMLInputElement;
    expect(temp.value).toBe("8");
    fireEvent.change(temp, { target: { value: "40" } });
    expect(screen.getByText("At most 30.")).toBeTruthy();
    fireEvent.change(temp, { target: { value: "6" } });
    fireEvent.change(screen.getByTestId("install-slug"), { target: { value: "my-cold" } });
    fireEvent.click(screen.getByTestId("install-submit"));
    fireEvent.click(await screen.findByTestId("install-open"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/blueprints/my-cold"));
    expect(calls.find((c) => c.path === "/api/v1/catalog/3/install")?.body).toEqual({ tenant: "demo", slug: "my-cold", params: { max_temp_c: 6 } });
  });

  it("compares two versions of a blueprint", async () => {
    const table = defaultRoutes();
    const v2 = structuredClone(version);
    v2.version = "1.0.1";
    v2.graph.nodes = v2.graph.nodes.filter((n) => n.id !== "lidar");
    table["GET /api/v1/t/demo/blueprints/smart-warehouse-safety/"] = () => ({
      body: { slug: "smart-warehouse-safety", title: "Smart Warehouse", description: "", category: "safety", tags: [], latest_version: { version: "1.0.1", state: "draft", created_at: "2026-01-01T00:00:00Z", submitted_at: null }, versions_count: 2 },
    });
    table["GET /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/"] = () => ({ body: [v2, version] });
    table["GET /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/1.0.1/"] = () => ({ body: v2 });
    calls = installFakeServer(table);
    renderAt("/t/demo/blueprints/smart-warehouse-safety");
    await screen.findByTestId("version-1.0.1");
    fireEvent.change(screen.getByTestId("diff-from"), { target: { value: "1.0.0" } });
    fireEvent.change(screen.getByTestId("diff-to"), { target: { value: "1.0.1" } });
    fireEvent.click(screen.getByTestId("diff-run"));
    await screen.findByTestId("diff-node-removed-lidar");
  });

  it("shows a new API token's secret once, and filters the audit log", async () => {
    const table = defaultRoutes();
    const admin = structuredClone(me);
    admin.memberships[0].capabilities = ["read", "edit", "operate", "publish", "admin"];
    admin.memberships[0].role = "admin";
    table["GET /api/v1/auth/me"] = () => ({ body: admin });
    table["GET /api/v1/t/demo/tokens/"] = () => ({ body: [] });
    table["POST /api/v1/t/demo/tokens/"] = () => ({
      status: 201,
      body: { id: 4, name: "ci", prefix: "aiot_ab", role: "designer", expires_at: null, revoked_at: null, last_used_at: null, secret: "aiot_abSECRET" },
    });
    table["GET /api/v1/t/demo/audit/"] = (c) => ({ body: { count: 0, next: null, previous: null, results: [], echo: c } });
    calls = installFakeServer(table);
    renderAt("/t/demo/admin/tokens");
    await screen.findByTestId("tokens");
    expect(screen.getByTestId("nav-admin")).toBeTruthy();
    fireEvent.change(screen.getByTestId("token-new-name"), { target: { value: "ci" } });
    fireEvent.change(screen.getByTestId("token-new-role"), { target: { value: "designer" } });
    fireEvent.click(screen.getByTestId("token-create"));
    expect((await screen.findByTestId("token-secret")).textContent).toBe("aiot_abSECRET");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "ci", role: "designer", expires_in_days: 90 });
    fireEvent.click(screen.getByText("Done"));
    expect(screen.queryByText("aiot_abSECRET")).toBeNull();
    expect(screen.getByTestId("token-4").textContent).toMatch(/aiot_ab/);
    cleanup();
    renderAt("/t/demo/admin/audit");
    await screen.findByTestId("audit");
    fireEvent.change(screen.getByTestId("audit-actor"), { target: { value: "bob" } });
    fireEvent.click(screen.getByTestId("audit-apply"));
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/t/demo/audit/" && c.method === "GET")).toBe(true));
    await waitFor(() => expect(fetchedUrls().some((u) => u.includes("/audit/?actor=bob"))).toBe(true));
  });

  it("warns before leaving the editor with unsaved changes", async () => {
    calls = installFakeServer(defaultRoutes());
    const router = renderAt("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0");
    await screen.findByTestId("node-forklift", {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId("palette-logic.not"));
    act(() => void router.navigate("/t/demo"));
    await screen.findByTestId("leave-dialog");
    fireEvent.click(screen.getByTestId("leave-stay"));
    expect(router.state.location.pathname).toBe("/t/demo/blueprints/smart-warehouse-safety/edit/1.0.0");
  });
});
