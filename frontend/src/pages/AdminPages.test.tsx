// @vitest-environment jsdom
// Members and roles: an admin changes a member's role (the request, then the list); others are not
// offered the control.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { routes } from "../App";
import type { Capability, Role } from "../api/types";
import { defaultRoutes, FakeWebSocket, installDomShims, installFakeServer, me, type Call } from "../test/fakeServer";

let errors: ReturnType<typeof vi.spyOn>;

const members = () => [
  { id: 1, username: "alice", role: "admin", created_at: "2026-01-01T00:00:00Z" },
  { id: 2, username: "bob", role: "viewer", created_at: "2026-01-02T00:00:00Z" },
];

function as(role: Role, capabilities: Capability[]) {
  const table = defaultRoutes();
  const who = structuredClone(me);
  who.memberships[0].role = role;
  who.memberships[0].capabilities = capabilities;
  table["GET /api/v1/auth/me"] = () => ({ body: who });
  table["GET /api/v1/t/demo/members/"] = () => ({ body: members() });
  table["PATCH /api/v1/t/demo/members/2/"] = (c) => ({ body: { ...members()[1], ...(c.body as object) } });
  table["PATCH /api/v1/t/demo/members/1/"] = () => ({
    status: 409,
    body: { error: { code: "conflict", message: "demo must keep at least one admin" } },
  });
  return table;
}

const roleOf = (username: string) => (screen.getByTestId(`member-role-${username}`) as HTMLSelectElement).value;

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

describe("the members page", () => {
  it("changes a member's role: the request carries the new role, and the list shows the server's answer", async () => {
    const calls: Call[] = installFakeServer(as("admin", ["read", "edit", "operate", "publish", "admin"]));
    render(<RouterProvider router={createMemoryRouter(routes, { initialEntries: ["/t/demo/admin/members"] })} />);
    await screen.findByTestId("member-bob");
    expect(roleOf("bob")).toBe("viewer");

    fireEvent.change(screen.getByTestId("member-role-bob"), { target: { value: "operator" } });
    await waitFor(() => expect(roleOf("bob")).toBe("operator"));
    const patch = calls.filter((c) => c.method === "PATCH");
    expect(patch).toHaveLength(1);
    expect(patch[0].path).toBe("/api/v1/t/demo/members/2/");
    expect(patch[0].body).toEqual({ role: "operator" });
    expect(patch[0].headers["X-CSRFToken"]).toBe("tok123");
    expect(roleOf("alice")).toBe("admin");

    // a change the studio refuses is shown, and the list keeps the role the member has
    fireEvent.change(screen.getByTestId("member-role-alice"), { target: { value: "viewer" } });
    expect((await screen.findByRole("alert")).textContent).toContain("demo must keep at least one admin");
    expect(calls.filter((c) => c.method === "PATCH").at(-1)!.body).toEqual({ role: "viewer" });
    expect(roleOf("alice")).toBe("admin");
    expect(roleOf("bob")).toBe("operator");
    expect(errors).not.toHaveBeenCalled();
  });

  it("is not offered to a member who is not an admin, nor are the members fetched", async () => {
    for (const [role, caps] of [
      ["designer", ["read", "edit"]],
      ["publisher", ["read", "edit", "publish"]],
    ] as [Role, Capability[]][]) {
      const calls: Call[] = installFakeServer(as(role, caps));
      render(<RouterProvider router={createMemoryRouter(routes, { initialEntries: ["/t/demo/admin/members"] })} />);
      expect(await screen.findByText("Your role in this workspace does not include administration.")).toBeTruthy();
      expect(screen.queryByTestId("nav-admin")).toBeNull();
      expect(screen.queryByTestId("members")).toBeNull();
      expect(screen.queryByRole("combobox", { name: /Role of/ })).toBeNull();
      expect(calls.some((c) => c.path.includes("/members/"))).toBe(false);
      cleanup();
      vi.unstubAllGlobals();
      installDomShims();
    }
  });
});
