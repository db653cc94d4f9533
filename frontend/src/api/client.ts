// The one way the app talks HTTP to the studio: JSON in and out, the session cookie, and the
// CSRF header on unsafe methods (docs/api.md). Errors become ApiError with the API's code.

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Unauthenticated = () => void;
let onUnauthenticated: Unauthenticated | null = null;

/** Called whenever the API answers 401: the app sends the user to the sign-in page. */
export function setUnauthenticatedHandler(handler: Unauthenticated | null): void {
  onUnauthenticated = handler;
}

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
}

/** `path` is relative to /api/v1 (e.g. "/auth/me"), or an absolute URL/path from a `next` link. */
export function apiUrl(path: string, query?: RequestOptions["query"]): string {
  let url: string;
  if (/^https?:\/\//.test(path)) {
    const u = new URL(path);
    url = u.pathname + u.search; // pagination links: keep them on our origin
  } else {
    url = path.startsWith(API) ? path : API + path;
  }
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  return url;
}

export async function api<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = (options.method ?? (options.body === undefined ? "GET" : "POST")).toUpperCase();
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  if (!SAFE.has(method)) {
    const token = readCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "network", "The studio cannot be reached. Check your connection.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!response.ok) {
    const e = (data as { error?: { code?: string; message?: string; field?: string; details?: unknown } })?.error;
    const code = e?.code ?? (response.status === 401 ? "not_authenticated" : "server_error");
    if (response.status === 401 || code === "not_authenticated") onUnauthenticated?.();
    throw new ApiError(
      response.status,
      code,
      e?.message ?? `${method} ${path} failed (${response.status})`,
      e?.field,
      e?.details,
    );
  }
  return data as T;
}

/** Lists that may come as a bare array or as a DRF page. */
export function resultsOf<T>(data: T[] | { results: T[] }): T[] {
  return Array.isArray(data) ? data : data.results;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const tenantPath = (tenant: string, rest: string) => `/t/${encodeURIComponent(tenant)}${rest}`;
