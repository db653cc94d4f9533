// @vitest-environment jsdom
// Certification, publishing, the catalog and upgrades against a fake studio.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { routes } from "../App";
import { defaultRoutes, me, version, FakeWebSocket, installDomShims, installFakeServer, type Call } from "../test/fakeServer";

let calls: Call[];
let errors: ReturnType<typeof vi.spyOn>;

function renderAt(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  render(<RouterProvider router={router} />);
  return router;
}

const publisher = structuredClone(me);
publisher.memberships[0].role = "publisher";
publisher.memberships[0].capabilities = ["read", "edit", "publish"];

const BP = "/api/v1/t/demo/blueprints/cold";
const blueprint = (over: object = {}) => ({
  slug: "cold",
  title: "Cold Chain Monitor",
  description: "",
  category: "cold-chain",
  tags: [],
  created_at: "",
  updated_at: "",
  latest_version: null,
  versions_count: 1,
  forked_from: null,
  ...over,
});
const summary = (v: string, state: string) => ({ version: v, state, created_at: "2026-01-01T00:00:00Z", submitted_at: null });
const progress = (data: object) => ({
  type: "certification.progress",
  tenant: "demo",
  data: { certification: 5, blueprint: "cold", version: "1.0.0", total: 8, ...data },
});

beforeEach(() => {
  installDomShims();
  FakeWebSocket.instances = [];
  document.cookie = "csrftoken=tok123";
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});

afterEach(() => {
  expect(errors.mock.calls).toEqual([]); // nothing React or the app complained about
  cleanup();
  vi.unstubAllGlobals();
  errors.mockRestore();
});

describe("a publisher", () => {
  it("certifies a version and follows the steps live to the verdict, then publishes it", async () => {
    let state = "draft";
    let cert: object | null = null;
    const table = defaultRoutes();
    table["GET /api/v1/auth/me"] = () => ({ body: publisher });
    table[`GET ${BP}/`] = () => ({ body: blueprint() });
    table[`GET ${BP}/versions/`] = () => ({ body: [summary("1.0.0", state)] });
    table[`GET ${BP}/versions/1.0.0/`] = () => ({ body: { ...version, state } });
    table[`GET ${BP}/versions/1.0.0/certification/`] = () =>
      cert ? { body: cert } : { status: 404, body: { error: { code: "not_found", message: "this version has not been certified" } } };
    table[`POST ${BP}/versions/1.0.0/certify`] = () => {
      state = "certifying";
      return { status: 202, body: { certification: 5, task_id: "t" } };
    };
    table[`POST ${BP}/versions/1.0.0/publish`] = () => {
      state = "published";
      return { body: { ...version, state } };
    };
    calls = installFakeServer(table);
    renderAt("/t/demo/blueprints/cold");
    await screen.findByTestId("cert-none");
    expect(calls.some((c) => c.path.endsWith("/certification/"))).toBe(false); // a draft has none: no 404 asked for
    expect(screen.queryByTestId("submit-1.0.0")).toBeNull(); // Certify submits too
    expect(screen.queryByTestId("publish")).toBeNull();
    await waitFor(() => expect(FakeWebSocket.instances.length).toBeGreaterThan(0));
    const ws = FakeWebSocket.instances.at(-1)!;

    fireEvent.click(screen.getByTestId("certify"));
    await waitFor(() => expect(calls.some((c) => c.path.endsWith("/certify"))).toBe(true));
    expect(calls.find((c) => c.path.endsWith("/certify"))?.headers["X-CSRFToken"]).toBe("tok123");
    expect(screen.getByTestId("cert-step-status-schema").textContent).toBe("pending");
    act(() => {
      ws.push(progress({ step: "schema", index: 0, status: "running" }));
      ws.push(progress({ blueprint: "other", step: "static", index: 1, status: "failed" })); // another blueprint's
    });
    expect(screen.getByTestId("cert-step-status-schema").textContent).toBe("running");
    expect(screen.getByTestId("cert-step-status-static").textContent).toBe("pending");
    act(() => ws.push(progress({ step: "schema", index: 0, status: "passed", message: "fine", figures: {}, elapsed_s: 0.02 })));
    expect(screen.getByTestId("cert-step-status-schema").textContent).toBe("passed");
    expect(screen.getByTestId("cert-step-elapsed-schema").textContent).toBe("20 ms");
    expect(screen.getByTestId("cert-verdict").textContent).toBe("Certifying: 1 of 8 steps done");

    const steps = ["static", "compile", "reproducible", "scenarios", "differential", "robustness", "performance"];
    act(() => {
      steps.forEach((step, i) => {
        ws.push(progress({ step, index: i + 1, status: "running" }));
        ws.push(
          progress({
            step,
            index: i + 1,
            status: "passed",
            elapsed_s: 0.5,
            figures: step === "performance" ? { p99_ms_per_batch: 0.8123, events_per_s: 250000 } : {},
          }),
        );
      });
    });
    expect(screen.getByTestId("cert-step-figures-performance").textContent).toMatch(/p99 per batch0.8123 ms/);
    expect(screen.getByTestId("cert-step-figures-performance").textContent).toMatch(/events\/s250,000\/s/);
    state = "certified";
    cert = {
      id: 5,
      state: "certified",
      steps: ["schema", ...steps].map((step) => ({ step, status: "passed", elapsed_s: 0.5 })),
      started_at: "2026-01-01T00:00:00Z",
      finished_at: "2026-01-01T00:00:09Z",
      report_available: true,
    };
    act(() => ws.push(progress({ step: "report", index: 8, status: "certified", verdict: "certified" })));
    await waitFor(() => expect(screen.getByTestId("cert-verdict").textContent).toMatch(/^Certified on .*: every step passed\.$/));
    expect(screen.getByTestId("cert-report-download").getAttribute("href")).toBe(`${BP}/versions/1.0.0/certification/report`);

    // the table follows (the version is certified now) and Publish is offered
    await waitFor(() => expect(within(screen.getByTestId("version-1.0.0")).getByText("certified")).toBeTruthy());
    fireEvent.click(await screen.findByTestId("publish"));
    await waitFor(() => expect(within(screen.getByTestId("version-1.0.0")).getByText("published")).toBeTruthy());
    expect(screen.getByTestId("deprecate")).toBeTruthy();
    expect(screen.queryByTestId("certify")).toBeNull();
  });

  it("sees a failed step's reason and how to reproduce it, after a reload too", async () => {
    const table = defaultRoutes();
    table["GET /api/v1/auth/me"] = () => ({ body: publisher });
    table[`GET ${BP}/`] = () => ({ body: blueprint() });
    table[`GET ${BP}/versions/`] = () => ({ body: [summary("1.0.0", "failed")] });
    table[`GET ${BP}/versions/1.0.0/`] = () => ({ body: { ...version, state: "failed" } });
    table[`GET ${BP}/versions/1.0.0/certification/`] = () => ({
      body: {
        id: 3,
        state: "failed",
        steps: [
          { step: "schema", status: "passed" },
          { step: "static", status: "passed" },
          { step: "compile", status: "passed" },
          { step: "reproducible", status: "passed" },
          {
            step: "scenarios",
            status: "failed",
            message: "scenarios that do not produce their expected actions: Near miss (compiled)",
            figures: { scenarios: 1, failed: 1 },
            repro: { failures: [{ scenario: "Near miss", engine: "compiled", difference: "0 records, expected 1", trace: [{ topic: "t", payload: {} }], expected: [] }] },
          },
        ],
        started_at: "",
        finished_at: "2026-01-01T00:00:00Z",
        report_available: true,
      },
    });
    calls = installFakeServer(table);
    renderAt("/t/demo/blueprints/cold");
    const repro = await screen.findByTestId("cert-repro-scenarios");
    expect(screen.getByTestId("cert-verdict").textContent).toBe("Not certified: Scenarios failed.");
    expect(repro.textContent).toMatch(/Near miss \(compiled\): 0 records, expected 1/);
    await waitFor(() => expect(repro.textContent).toMatch(/aiot graph run graph.json --trace Near-miss.jsonl --engine onnx/));
    expect(screen.getByTestId("certify").textContent).toBe("Certify again");
    expect(screen.getByTestId("cert-report-download")).toBeTruthy();
  });
});

describe("the catalog", () => {
  const entry = {
    id: 3,
    tenant: "acme",
    slug: "cold",
    title: "Cold Chain Monitor",
    description: "Keeps it cold",
    category: "cold-chain",
    tags: ["door"],
    version: "1.0.0",
    state: "published",
    readme: "# Cold",
    params_schema: {
      type: "object",
      properties: {
        high_limit_c: { type: "number", title: "High limit", default: 8, minimum: -40, maximum: 40 },
        command_topic: { type: "string", title: "Command topic", default: "cmd/{key}", pattern: "^[a-z/{}]+$" },
      },
    },
    required_telemetry: [{ source: "reefer", topic: "coldchain/+/telemetry", key: "payload:unit_id", schema: { type: "object", required: ["temp_c"], properties: { temp_c: { type: "number" } } } }],
    budget: {},
    certificate: {
      verdict: "certified",
      finished_at: "2026-01-01T00:00:00Z",
      figures: { performance: { p99_ms_per_batch: 0.5 }, schema: {} },
      signed_report: { format: "aiot.signed/v1", document: { compiler: "1" }, signature: "s", signer: { alg: "Ed25519", key_id: "k123", public_key: "p" } },
    },
  };

  it("filters by text (after a pause), category and tag, a page at a time", async () => {
    const table = defaultRoutes();
    table["GET /api/v1/catalog/"] = () => ({ body: { count: 13, next: "http://x/api/v1/catalog/?page=2", previous: null, results: [entry] } });
    calls = installFakeServer(table);
    const router = renderAt("/t/demo/catalog");
    await screen.findByTestId("catalog-3");
    fireEvent.change(screen.getByTestId("catalog-search"), { target: { value: "col" } });
    fireEvent.change(screen.getByTestId("catalog-search"), { target: { value: "cold" } });
    await waitFor(() => expect(router.state.location.search).toBe("?q=cold"));
    await screen.findByTestId("catalog-clear"); // the page shows the filter
    fireEvent.click(within(screen.getByTestId("catalog-3")).getByText("door"));
    await waitFor(() => expect(router.state.location.search).toBe("?q=cold&tag=door"));
    fireEvent.change(screen.getByTestId("catalog-category"), { target: { value: "cold-chain" } });
    fireEvent.click(screen.getByTestId("page-next"));
    await waitFor(() => expect(router.state.location.search).toBe("?q=cold&category=cold-chain&tag=door&page=2"));
    const urls = (fetch as unknown as { mock: { calls: [string][] } }).mock.calls.map((c) => String(c[0])).filter((u) => u.includes("/catalog/"));
    expect(urls.some((u) => u.includes("q=col&"))).toBe(false); // typing waits for a pause
    expect(urls.at(-1)).toBe("/api/v1/catalog/?q=cold&category=cold-chain&tag=door&page=2&page_size=12");
  });

  it("shows an entry's certificate, parameters and telemetry; installs it with the studio's error on its field, then links to it", async () => {
    const table = defaultRoutes();
    table["GET /api/v1/catalog/3/"] = () => ({ body: entry });
    let attempts = 0;
    table["POST /api/v1/catalog/3/install"] = () =>
      ++attempts === 1
        ? {
            status: 400,
            body: { error: { code: "validation", field: "params", message: "/params/properties/command_topic: parameter 'command_topic': 'x y' does not match '^[a-z/{}]+$'" } },
          }
        : { status: 201, body: { tenant: "demo", slug: "my-cold", version: "1.0.0" } };
    calls = installFakeServer(table);
    const router = renderAt("/t/demo/catalog/3");
    await screen.findByTestId("catalog-entry");
    expect(screen.getByTestId("catalog-figures").textContent).toMatch(/p99 per batch 0.5 ms/);
    expect(screen.getByTestId("catalog-params").textContent).toMatch(/High limit.*8.*-40 … 40/);
    expect(screen.getByTestId("catalog-telemetry").textContent).toMatch(/coldchain\/\+\/telemetry.*temp_c number, required/);
    expect(screen.getByTestId("catalog-certificate").textContent).toMatch(/k123/);

    fireEvent.click(screen.getByTestId("catalog-entry-install"));
    const high = screen.getByTestId("install-param-high_limit_c") as HTMLInputElement;
    fireEvent.change(high, { target: { value: "99" } });
    expect(screen.getByText("At most 40.")).toBeTruthy();
    fireEvent.click(screen.getByTestId("install-submit"));
    expect(screen.getByTestId("install-error").textContent).toMatch(/fields marked in red/);
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    fireEvent.change(high, { target: { value: "6" } });
    fireEvent.change(screen.getByTestId("install-slug"), { target: { value: "My Cold" } });
    expect(screen.getByTestId("install-slug-error").textContent).toMatch(/Lowercase/);
    fireEvent.change(screen.getByTestId("install-slug"), { target: { value: "my-cold" } });
    fireEvent.change(screen.getByTestId("install-param-command_topic"), { target: { value: "x y" } });
    // the pattern check is left to the studio here (jsdom's RegExp reads it; the studio is the judge anyway)
    fireEvent.change(screen.getByTestId("install-param-command_topic"), { target: { value: "cmd" } });
    fireEvent.click(screen.getByTestId("install-submit"));
    await screen.findByText("'x y' does not match '^[a-z/{}]+$'");
    fireEvent.change(screen.getByTestId("install-param-command_topic"), { target: { value: "cmd/{key}" } });
    expect(screen.queryByText("'x y' does not match '^[a-z/{}]+$'")).toBeNull();
    fireEvent.click(screen.getByTestId("install-submit"));
    const open = await screen.findByTestId("install-open");
    expect(screen.getByTestId("install-done").textContent).toMatch(/Installed Cold Chain Monitor 1.0.0 into Demo as my-cold/);
    const posts = calls.filter((c) => c.path === "/api/v1/catalog/3/install");
    expect(posts.at(-1)?.body).toEqual({ tenant: "demo", slug: "my-cold", params: { high_limit_c: 6, command_topic: "cmd/{key}" } });
    table["GET /api/v1/t/demo/blueprints/my-cold/"] = () => ({ body: blueprint({ slug: "my-cold", forked_from: { tenant: "acme", blueprint: "cold", version: "1.0.0" } }) });
    table["GET /api/v1/t/demo/blueprints/my-cold/versions/"] = () => ({ body: [summary("1.0.0", "draft")] });
    table["GET /api/v1/t/demo/blueprints/my-cold/upgrades/"] = () => ({ body: [] });
    fireEvent.click(open);
    await waitFor(() => expect(router.state.location.pathname).toBe("/t/demo/blueprints/my-cold"));
    expect((await screen.findByTestId("origin-source")).textContent).toMatch(/Installed from the catalog: acme \/ cold 1.0.0/);
  });
});

describe("a blueprint installed from the catalog", () => {
  it("offers a newer published version with what it changes, and upgrades to a new draft", async () => {
    const v2 = structuredClone(version);
    v2.version = "1.1.0";
    v2.graph.nodes = v2.graph.nodes.filter((n) => n.id !== "lidar");
    let upgraded = false;
    const table = defaultRoutes();
    table[`GET ${BP}/`] = () => ({ body: blueprint({ forked_from: { tenant: "acme", blueprint: "cold", version: upgraded ? "1.1.0" : "1.0.0" } }) });
    table[`GET ${BP}/versions/`] = () => ({ body: upgraded ? [summary("1.1.0", "draft"), summary("1.0.0", "draft")] : [summary("1.0.0", "draft")] });
    table[`GET ${BP}/versions/1.0.0/`] = () => ({ body: version });
    table[`GET ${BP}/versions/1.1.0/`] = () => ({ body: v2 });
    table[`GET ${BP}/versions/1.0.0/certification/`] = () => ({ status: 404, body: { error: { code: "not_found", message: "no" } } });
    table[`GET ${BP}/versions/1.1.0/certification/`] = table[`GET ${BP}/versions/1.0.0/certification/`];
    table[`GET ${BP}/upgrades/`] = () => ({
      body: upgraded
        ? []
        : [
            { catalog_id: 9, version: "1.1.0", diff: { nodes: { added: [], removed: ["lidar"], changed: [] }, edges: { added: [], removed: ["lidar→x"] }, params: { added: [], removed: [], changed: [] } } },
          ],
    });
    table[`POST ${BP}/upgrade`] = () => {
      upgraded = true;
      return { status: 201, body: v2 };
    };
    calls = installFakeServer(table);
    renderAt("/t/demo/blueprints/cold");
    expect((await screen.findByTestId("upgrade-summary-1.1.0")).textContent).toBe("nodes: 1 removed · edges: 1 removed");
    fireEvent.click(screen.getByTestId("upgrade-run-1.1.0"));
    await screen.findByTestId("diff-node-removed-lidar"); // the whole diff, between my two versions
    expect(calls.find((c) => c.path.endsWith("/upgrade"))?.body).toEqual({ catalog_id: 9 });
    await waitFor(() => expect(screen.queryByTestId("upgrades")).toBeNull());
    await waitFor(() => expect(screen.getByTestId("version-panel").textContent).toMatch(/Version 1.1.0/));
    expect(screen.getByTestId("origin-source").textContent).toMatch(/acme \/ cold 1.1.0/);
  });
});
