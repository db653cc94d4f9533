// @vitest-environment jsdom
// The dashboard's devices table: the bundle each device runs, from the list and from live status.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { routes } from "../App";
import { defaultRoutes, FakeWebSocket, installDomShims, installFakeServer } from "../test/fakeServer";

const BUNDLE = "3f9a0c1d2e4b" + "5".repeat(52); // a sha256 bundle id, 64 hex digits
const NEWER = "77aa00bb11cc" + "d".repeat(52);
let errors: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  installDomShims();
  FakeWebSocket.instances = [];
  document.cookie = "csrftoken=tok123";
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  errors.mockRestore();
});

describe("the dashboard's bundle column", () => {
  it("shows each device's bundle id, shortened with the whole id on hover, and follows device.status", async () => {
    const table = defaultRoutes();
    table["GET /api/v1/t/demo/devices/"] = () => ({
      body: [
        {
          device_id: "gw-1",
          name: "Dock gateway",
          group: "dock",
          state: "online",
          bundle: BUNDLE,
          last_status: { state: "online", blueprint: { slug: "smart-warehouse-safety", version: "1.2.0" } },
          last_seen: null,
        },
        { device_id: "gw-2", name: "", group: "", state: "offline", bundle: null, last_status: null, last_seen: null },
      ],
    });
    installFakeServer(table);
    render(<RouterProvider router={createMemoryRouter(routes, { initialEntries: ["/t/demo"] })} />);
    const devices = await screen.findByTestId("devices-table");
    const headers = within(devices).getAllByRole("columnheader").map((h) => h.textContent);
    const column = headers.indexOf("Bundle");
    expect(column).toBe(2);

    const cell = screen.getByTestId("device-bundle-gw-1");
    expect(within(screen.getByTestId("device-gw-1")).getAllByRole("cell")[column]).toBe(cell);
    expect(cell.querySelector("code")!.textContent).toBe("3f9a0c1d2e4b");
    expect(cell.querySelector("code")!.getAttribute("title")).toBe(BUNDLE);
    expect(cell.textContent).toContain("smart-warehouse-safety 1.2.0");
    expect(screen.getByTestId("device-bundle-gw-2").textContent).toBe("—");

    // a device that swapped bundles says so in its next status message
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    act(() =>
      FakeWebSocket.instances.at(-1)!.push({
        type: "device.status",
        tenant: "demo",
        data: [
          { device_id: "gw-2", state: "online", last_status: { state: "online", bundle: NEWER, blueprint: "cold-chain-monitor 1.0.0" } },
        ],
      }),
    );
    const updated = screen.getByTestId("device-bundle-gw-2");
    expect(updated.querySelector("code")!.textContent).toBe("77aa00bb11cc");
    expect(updated.querySelector("code")!.getAttribute("title")).toBe(NEWER);
    expect(updated.textContent).toContain("cold-chain-monitor 1.0.0");
    expect(screen.getByTestId("device-bundle-gw-1").querySelector("code")!.textContent).toBe("3f9a0c1d2e4b");
    expect(errors).not.toHaveBeenCalled();
  });
});
