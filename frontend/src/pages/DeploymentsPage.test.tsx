// @vitest-environment jsdom
// The deployments pages against a fake studio: the form and its server errors, the detail view
// following deployment.progress, pause and a confirmed rollback, and the dashboard's card.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { routes } from "../App";
import { defaultRoutes, FakeWebSocket, installDomShims, installFakeServer, type Call, type Handler } from "../test/fakeServer";
import type { Deployment } from "./deployments";

const NEW = "b".repeat(64);
const OLD = "a".repeat(64);
let calls: Call[];
let errors: ReturnType<typeof vi.spyOn>;

const bundle = (id: string, version: string) => ({
  bundle_id: id,
  blueprint: "cold-chain-monitor",
  version,
  params: { high_limit_c: 8 },
  size: 4096,
  created_by: "dana",
  created_at: version === "1.0.1" ? "2026-01-02T00:00:00Z" : "2026-01-01T00:00:00Z",
  download_url: "",
});

function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    id: 5,
    bundle: NEW,
    group: "line-1",
    strategy: "canary",
    canary_count: 1,
    canary_percent: null,
    health_window_s: 2,
    timeout_s: 30,
    max_p99_ratio: 3,
    max_reject_increase: 0.2,
    state: "canary",
    reason: "",
    created_by: "alice",
    created_at: "2026-01-03T00:00:00Z",
    canary_done_at: null,
    finished_at: null,
    targets: ["gw-1", "gw-2", "gw-3"].map((device, i) => ({
      device,
      phase: i === 0 ? "canary" : "rest",
      state: i === 0 ? "sent" : "pending",
      previous_bundle_id: OLD,
      error: "",
      sent_at: i === 0 ? "2026-01-03T00:00:01Z" : null,
      confirmed_at: null,
    })),
    ...over,
  };
}

const devices = ["gw-1", "gw-2", "gw-3"].map((id) => ({
  device_id: id,
  name: "",
  group: "line-1",
  state: "online",
  bundle: OLD,
  last_status: null,
  last_seen: null,
}));

function opsRoutes(extra: Record<string, Handler> = {}): Record<string, Handler> {
  const page = (results: unknown[]) => ({ body: { count: results.length, next: null, previous: null, results } });
  return {
    ...defaultRoutes(),
    "GET /api/v1/t/ops/bundles/": () => page([bundle(OLD, "1.0.0"), bundle(NEW, "1.0.1")]),
    [`GET /api/v1/t/ops/bundles/${NEW}/`]: () => ({ body: bundle(NEW, "1.0.1") }),
    "GET /api/v1/t/ops/devices/": () => ({ body: [...devices, { ...devices[0], device_id: "gw-9", group: "dock", state: "offline" }] }),
    "GET /api/v1/t/ops/alerts/": () => page([]),
    "GET /api/v1/t/ops/deployments/": () => page([]),
    ...extra,
  };
}

function renderAt(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  render(<RouterProvider router={router} />);
  return router;
}

async function socket() {
  await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
  return FakeWebSocket.instances.at(-1)!;
}

const progress = (state: string, targets: Record<string, number>, reason = "") => ({
  type: "deployment.progress",
  tenant: "ops",
  data: { deployment: 5, state, reason, bundle: NEW, group: "line-1", targets },
});

beforeEach(() => {
  installDomShims();
  FakeWebSocket.instances = [];
  document.cookie = "csrftoken=tok123";
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  errors.mockRestore();
});

describe("deployments", () => {
  it("starts a canary deployment from the form, showing the studio's errors next to the fields", async () => {
    let attempt = 0;
    calls = installFakeServer(
      opsRoutes({
        "POST /api/v1/t/ops/deployments/": () => {
          attempt += 1;
          if (attempt === 1)
            return {
              status: 400,
              body: {
                error: {
                  code: "validation",
                  message: "health_window_s: Ensure this value is less than or equal to 86400.",
                  field: "health_window_s",
                  details: { health_window_s: ["Ensure this value is less than or equal to 86400."] },
                },
              },
            };
          if (attempt === 2)
            return { status: 409, body: { error: { code: "conflict", message: "a deployment to line-1 is already under way", field: "group" } } };
          return { status: 201, body: deployment() };
        },
        "GET /api/v1/t/ops/deployments/5/": () => ({ body: deployment() }),
      }),
    );
    const router = renderAt("/t/ops/deployments");
    fireEvent.click(await screen.findByTestId("deployment-new"));
    const dialog = await screen.findByTestId("deploy-dialog");
    const bundleSelect = within(dialog).getByTestId("deploy-bundle") as HTMLSelectElement;
    await waitFor(() => expect(bundleSelect.options.length).toBe(3));
    expect(bundleSelect.options[1].textContent).toMatch(/^cold-chain-monitor 1\.0\.1/); // newest first
    const group = within(dialog).getByTestId("deploy-group") as HTMLSelectElement;
    await waitFor(() => expect([...group.options].map((o) => o.textContent)).toEqual([
      "Every device (4)",
      "dock (1 device, 0 online)",
      "line-1 (3 devices, 3 online)",
    ]));

    // nothing chosen: said at once, nothing sent
    fireEvent.click(screen.getByTestId("deploy-submit"));
    expect(screen.getByTestId("deploy-error-bundle").textContent).toBe("Choose the bundle to deploy.");
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    fireEvent.change(bundleSelect, { target: { value: NEW } });
    expect(screen.getByTestId("deploy-bundle-facts").textContent).toMatch(/cold-chain-monitor 1\.0\.1/);
    expect(screen.getByTestId("deploy-bundle-facts").textContent).toMatch(/high_limit_c=8/);
    fireEvent.change(group, { target: { value: "line-1" } });
    expect(screen.getByTestId("deploy-canary-preview").textContent).toMatch(/^1 of 3 devices get the bundle first/);
    fireEvent.click(screen.getByTestId("deploy-canary-by-percent"));
    fireEvent.change(screen.getByTestId("deploy-canary-percent"), { target: { value: "67" } });
    expect(screen.getByTestId("deploy-canary-preview").textContent).toMatch(/^2 of 3 devices/);
    fireEvent.click(screen.getByTestId("deploy-canary-by-count"));
    fireEvent.change(screen.getByTestId("deploy-health-window"), { target: { value: "999999" } });

    fireEvent.click(screen.getByTestId("deploy-submit"));
    expect((await screen.findByTestId("deploy-error-healthWindow")).textContent).toBe("Ensure this value is less than or equal to 86400.");
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({
      bundle: NEW,
      group: "line-1",
      strategy: "canary",
      canary_count: 1,
      health_window_s: 999999,
      timeout_s: 60,
      max_p99_ratio: 3,
      max_reject_increase: 0.2,
    });
    expect(post.headers["X-CSRFToken"]).toBe("tok123");

    fireEvent.change(screen.getByTestId("deploy-health-window"), { target: { value: "2" } });
    expect(screen.queryByTestId("deploy-error-healthWindow")).toBeNull(); // edited: the error goes
    fireEvent.click(screen.getByTestId("deploy-submit"));
    expect((await screen.findByTestId("deploy-error-group")).textContent).toBe("a deployment to line-1 is already under way");

    fireEvent.click(screen.getByTestId("deploy-submit"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/ops/deployments/5"));
    expect((await screen.findByTestId("deployment-state")).textContent).toBe("Canary");
    expect(errors).not.toHaveBeenCalled();
  });

  it("follows deployment.progress live: canary, rollout, done; per-device detail fetched again", async () => {
    let served = deployment();
    calls = installFakeServer(opsRoutes({ "GET /api/v1/t/ops/deployments/5/": () => ({ body: served }) }));
    renderAt("/t/ops/deployments/5");
    expect((await screen.findByTestId("deployment-progress-text")).textContent).toBe("0 of 3 devices run the new bundle · 1 updating");
    expect(screen.getByTestId("deployment-phase").textContent).toMatch(/^Canary — 1 canary device first/);
    expect(screen.getByTestId("target-state-gw-1").textContent).toBe("Updating");
    await waitFor(() => expect(screen.getByTestId("target-bundle-gw-1").textContent).toBe("the previous bundle"));
    const ws = await socket();
    const gets = () => calls.filter((c) => c.path === "/api/v1/t/ops/deployments/5/").length;
    const before = gets();

    // the message moves the bar at once, before any fetch
    act(() => ws.push(progress("canary", { running: 1, pending: 2 })));
    expect(screen.getByTestId("deployment-progress-text").textContent).toBe("1 of 3 devices run the new bundle");
    expect(screen.getByTestId("deployment-progress").getAttribute("aria-valuenow")).toBe("33");
    expect(gets()).toBe(before);
    // … and the devices' detail follows
    served = deployment({ targets: served.targets.map((t, i) => (i === 0 ? { ...t, state: "running" } : t)) });
    await waitFor(() => expect(screen.getByTestId("target-state-gw-1").textContent).toBe("Runs the new bundle"));
    expect(gets()).toBe(before + 1);

    act(() => ws.push(progress("rolling", { running: 1, sent: 2 })));
    expect(screen.getByTestId("deployment-phase").textContent).toMatch(/^Rolling out/);
    expect(screen.getByTestId("deployment-state").textContent).toBe("Rolling out");
    // the devices report the new bundle on device.status
    act(() => ws.push({ type: "device.status", tenant: "ops", data: [{ device_id: "gw-1", state: "online", bundle: NEW, last_status: { state: "online", bundle: NEW } }] }));
    expect(screen.getByTestId("target-bundle-gw-1").textContent).toBe("the new bundle");

    served = deployment({ state: "done", canary_done_at: "x", finished_at: "2026-01-03T00:01:00Z", targets: served.targets.map((t) => ({ ...t, state: "running" })) });
    act(() => ws.push(progress("done", { running: 3 })));
    expect(screen.getByTestId("deployment-progress").getAttribute("aria-valuenow")).toBe("100");
    expect(screen.getByTestId("deployment-phase").textContent).toMatch(/^Done/);
    expect(screen.queryByTestId("deployment-pause")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("target-state-gw-3").textContent).toBe("Runs the new bundle"));
    // another deployment's messages are not this one's
    act(() => ws.push({ ...progress("rolled_back", { rolled_back: 3 }), data: { ...progress("rolled_back", {}).data, deployment: 6 } }));
    expect(screen.getByTestId("deployment-state").textContent).toBe("Done");
    expect(errors).not.toHaveBeenCalled();
  });

  it("pauses, resumes, and rolls back only after a confirmation; an automatic rollback says why", async () => {
    let served = deployment({ state: "rolling", canary_done_at: "2026-01-03T00:00:05Z" });
    calls = installFakeServer(
      opsRoutes({
        "GET /api/v1/t/ops/deployments/5/": () => ({ body: served }),
        "POST /api/v1/t/ops/deployments/5/pause/": () => ({ body: (served = { ...served, state: "paused" }) }),
        "POST /api/v1/t/ops/deployments/5/resume/": () => ({ body: (served = { ...served, state: "rolling" }) }),
        "POST /api/v1/t/ops/deployments/5/rollback/": () => ({
          body: (served = { ...served, state: "rolled_back", reason: "rolled back by hand", targets: served.targets.map((t) => ({ ...t, state: t.state === "pending" ? "pending" : "rolled_back" })) }),
        }),
      }),
    );
    renderAt("/t/ops/deployments/5");
    fireEvent.click(await screen.findByTestId("deployment-pause"));
    await waitFor(() => expect(screen.getByTestId("deployment-state").textContent).toBe("Paused"));
    fireEvent.click(screen.getByTestId("deployment-resume"));
    await waitFor(() => expect(screen.getByTestId("deployment-state").textContent).toBe("Rolling out"));

    fireEvent.click(screen.getByTestId("deployment-rollback"));
    const dialog = screen.getByTestId("rollback-dialog");
    expect(dialog.textContent).toMatch(/cold-chain-monitor 1\.0\.1 goes back to the bundle it ran before/);
    fireEvent.click(within(dialog).getByText("Cancel"));
    expect(calls.some((c) => c.path.endsWith("/rollback/"))).toBe(false);
    fireEvent.click(screen.getByTestId("deployment-rollback"));
    fireEvent.click(screen.getByTestId("rollback-confirm"));
    await waitFor(() => expect(screen.getByTestId("deployment-state").textContent).toBe("Rolled back"));
    expect(screen.getByTestId("deployment-reason").textContent).toMatch(/Rolled back by an operator/);
    expect(screen.queryByTestId("deployment-rollback")).toBeNull();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path.split("/").at(-2))).toEqual(["pause", "resume", "rollback"]);

    // an automatic rollback, live
    const ws = await socket();
    act(() => ws.push(progress("rolled_back", { rolled_back: 1, pending: 2 }, "health gate failed: gw-1: rejects 100% of events since the swap, was 0%")));
    expect(screen.getByTestId("deployment-reason").textContent).toMatch(/Rolled back automatically/);
    expect(screen.getByTestId("deployment-reason-detail").textContent).toBe(
      "gw-1 rejected 100% of its incoming events after the update, against 0% before: the new bundle does not accept this device's telemetry.",
    );
    expect(screen.getByTestId("deployment-progress-text").textContent).toBe("1 of 3 devices sent back to the previous bundle");
  });

  it("offers no deployment controls to a designer; the dashboard shows the deployment under way, live", async () => {
    const table = defaultRoutes();
    table["GET /api/v1/t/demo/deployments/"] = () => ({ body: { count: 1, next: null, previous: null, results: [{ ...deployment(), id: 9 }] } });
    table["GET /api/v1/t/demo/deployments/9/"] = () => ({ body: { ...deployment(), id: 9 } });
    table["GET /api/v1/t/demo/bundles/"] = () => ({ body: [bundle(NEW, "1.0.1")] });
    calls = installFakeServer(table);
    const router = renderAt("/t/demo");
    const row = await screen.findByTestId("dashboard-deployment-9");
    await waitFor(() => expect(within(row).getByTestId("dashboard-deployment-link-9").textContent).toBe("#9 cold-chain-monitor 1.0.1 → line-1"));
    expect(within(row).getByTestId("dashboard-deployment-text-9").textContent).toBe("0 of 3 devices run the new bundle · 1 updating");
    const ws = await socket();
    act(() => ws.push({ type: "deployment.progress", tenant: "demo", data: { deployment: 9, state: "rolling", reason: "", bundle: NEW, group: "line-1", targets: { running: 2, sent: 1 } } }));
    expect(within(row).getByTestId("dashboard-deployment-state-9").textContent).toBe("Rolling out");
    expect(within(row).getByTestId("dashboard-deployment-bar-9").getAttribute("aria-valuenow")).toBe("67");

    fireEvent.click(within(row).getByTestId("dashboard-deployment-link-9"));
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/deployments/9"));
    await screen.findByTestId("deployment-progress-text");
    expect(screen.queryByTestId("deployment-pause")).toBeNull();
    expect(screen.queryByTestId("deployment-rollback")).toBeNull();
    fireEvent.click(screen.getByTestId("nav-deployments"));
    await screen.findByTestId("deployment-row-9");
    expect(screen.queryByTestId("deployment-new")).toBeNull();
  });
});
