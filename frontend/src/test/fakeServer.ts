// A fake studio for component tests: fetch answered from a table, and a controllable WebSocket.
import { vi } from "vitest";
import registry from "../__fixtures__/node-types.json";
import warehouse from "../__fixtures__/warehouse-graph.json";

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

export type Handler = (call: Call) => { status?: number; body?: unknown } | undefined;

export const me = {
  user: { id: 1, username: "alice", is_platform_admin: false },
  memberships: [
    { tenant: { slug: "demo", name: "Demo" }, role: "designer", capabilities: ["read", "edit"] },
    { tenant: { slug: "ops", name: "Ops" }, role: "operator", capabilities: ["read", "operate"] },
  ],
};

export const version = {
  version: "1.0.0",
  state: "draft",
  graph: warehouse,
  readme: "# Warehouse",
  scenarios: [
    {
      name: "Near miss",
      params: {},
      trace: [{ topic: "site/dc1/forklift/FL-07/telemetry", payload: { ts: 1000, speed_kmh: 6, zone: "aisle" } }],
      expected: [],
    },
  ],
  created_at: "2026-01-01T00:00:00Z",
};

export function defaultRoutes(): Record<string, Handler> {
  return {
    "GET /api/v1/auth/me": () => ({ body: me }),
    "GET /api/v1/node-types": () => ({ body: registry }),
    "GET /api/v1/t/demo/blueprints/smart-warehouse-safety/versions/1.0.0/": () => ({ body: version }),
    "POST /api/v1/validate": () => ({
      body: {
        problems: [{ node: "overspeed", path: "/nodes/16/params/op", code: "schema", message: "op: 'gt' is fine but this is a test" }],
      },
    }),
    "POST /api/v1/t/demo/simulate": () => ({
      body: {
        records: [{ action: "alert_overspeed", kind: "alert", key: "FL-07", ts: 2000, name: "overspeed", severity: "warning", message: "too fast", values: { speed_kmh: 11 } }],
        summary: { messages: 2, events: 2, accepted: 2, actions: 1 },
        series: { speed: [[1000, "FL-07", 6], [2000, "FL-07", 11], [1500, "FL-03", null]] },
        counts: { speed: { evaluated: 2, fired: 0 }, alert_overspeed: { evaluated: 2, fired: 1 } },
        truncated: false,
      },
    }),
    "GET /api/v1/t/demo/devices/": () => ({
      body: [
        { device_id: "gw-1", name: "Dock gateway", group: "dock", state: "offline", bundle: null, last_status: null, last_seen: null },
      ],
    }),
    "GET /api/v1/t/demo/deployments/": () => ({ body: { count: 0, next: null, previous: null, results: [] } }),
    "GET /api/v1/t/demo/bundles/": () => ({ body: { count: 0, next: null, previous: null, results: [] } }),
    "GET /api/v1/t/demo/alerts/": () => ({
      body: {
        count: 1,
        next: null,
        previous: null,
        results: [
          { id: 7, device: "gw-1", action: "alert_overspeed", name: "overspeed", severity: "warning", message: "FL-07 too fast", key: "FL-07", ts: 1000, values: {}, received_at: "2026-01-01T00:00:00Z", acknowledged_by: null, acknowledged_at: null },
        ],
      },
    }),
  };
}

export function installFakeServer(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = (init?.method ?? "GET").toUpperCase();
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : init?.body;
    const call = { method, path: url.pathname, body, headers: (init?.headers ?? {}) as Record<string, string> };
    calls.push(call);
    const handler = routes[`${method} ${url.pathname}`];
    const res = handler?.(call) ?? { status: 404, body: { error: { code: "not_found", message: `no route ${method} ${url.pathname}` } } };
    const status = res.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(res.body ?? null), { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
    setTimeout(() => this.onopen?.(), 0);
  }
  send() {}
  close() {
    this.onclose?.();
  }
  push(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

/** What React Flow needs from a DOM that jsdom does not have. */
export function installDomShims() {
  class ResizeObserver {
    constructor(private cb: (entries: { target: Element }[], o: unknown) => void) {}
    observe(target: Element) {
      this.cb([{ target }], this);
    }
    unobserve() {}
    disconnect() {}
  }
  class DOMMatrixReadOnly {
    m22: number;
    constructor(transform?: string) {
      const scale = transform?.match(/scale\(([0-9.]+)\)/)?.[1];
      this.m22 = scale !== undefined ? +scale : 1;
    }
  }
  vi.stubGlobal("ResizeObserver", ResizeObserver);
  vi.stubGlobal("DOMMatrixReadOnly", DOMMatrixReadOnly);
  vi.stubGlobal("WebSocket", FakeWebSocket);
  Object.defineProperties(HTMLElement.prototype, {
    offsetHeight: { configurable: true, get() { return parseFloat(this.style.height) || 100; } },
    offsetWidth: { configurable: true, get() { return parseFloat(this.style.width) || 200; } },
    // d3-zoom's animated transitions measure the pane
    clientHeight: { configurable: true, get() { return 600; } },
    clientWidth: { configurable: true, get() { return 800; } },
  });
  (SVGElement.prototype as unknown as { getBBox: () => DOMRect }).getBBox = () => ({ x: 0, y: 0, width: 0, height: 0 }) as DOMRect;
}
