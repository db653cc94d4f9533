// The catalog's pure parts: the list's query, install errors placed on their fields, what an
// upgrade changes in a sentence.
import { ApiError, errorMessage } from "../api/client";
import type { VersionDiffSummary } from "../api/types";

export interface CatalogFilters {
  q: string;
  category: string;
  tag: string;
  page: number;
}

export const CATALOG_PAGE_SIZE = 12;

/** The filters as URL search parameters (the page's address keeps them: back, reload, share). */
export function filtersFromSearch(search: URLSearchParams): CatalogFilters {
  const page = Number.parseInt(search.get("page") ?? "1", 10);
  return {
    q: search.get("q") ?? "",
    category: search.get("category") ?? "",
    tag: search.get("tag") ?? "",
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

export function searchFromFilters(f: CatalogFilters): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.q) out.q = f.q;
  if (f.category) out.category = f.category;
  if (f.tag) out.tag = f.tag;
  if (f.page > 1) out.page = String(f.page);
  return out;
}

export function catalogQuery(f: CatalogFilters): Record<string, string | number> {
  return { q: f.q.trim(), category: f.category, tag: f.tag.trim(), page: f.page, page_size: CATALOG_PAGE_SIZE };
}

export interface InstallErrors {
  /** parameter name → message, shown next to the parameter's field */
  params: Record<string, string>;
  /** the install form's own fields (slug, tenant) → message */
  fields: Record<string, string>;
  /** what belongs to no field */
  general: string | null;
}

const PARAM_PROBLEM = /^\/params\/properties\/([^:/]+): (?:parameter '[^']*': )?(.*)$/s;

/**
 * The install (or upgrade) answer's error, on the field it is about. The studio checks parameter
 * values against the params schema and names the first bad one as
 * `/params/properties/NAME: parameter 'NAME': MESSAGE` (field `params`).
 */
export function installErrors(err: unknown): InstallErrors {
  const out: InstallErrors = { params: {}, fields: {}, general: null };
  if (!(err instanceof ApiError)) {
    out.general = errorMessage(err);
    return out;
  }
  if (err.field === "params") {
    const m = PARAM_PROBLEM.exec(err.message);
    if (m) {
      out.params[m[1]] = m[2].charAt(0).toUpperCase() + m[2].slice(1);
      return out;
    }
  }
  if (err.field === "slug" || err.field === "tenant") {
    out.fields[err.field] = err.message;
    return out;
  }
  out.general = err.message;
  return out;
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function slugProblem(slug: string): string | null {
  if (!slug) return "Required.";
  if (slug.length > 63) return "At most 63 characters.";
  return SLUG.test(slug) ? null : "Lowercase letters, digits and single hyphens only.";
}

/** "nodes: 2 changed, 1 added · edges: 1 removed", or "no change to the graph". */
export function describeDiff(diff: VersionDiffSummary): string {
  const part = (what: string, d: { added: string[]; removed: string[]; changed?: string[] }) => {
    const bits = [
      d.changed?.length ? `${d.changed.length} changed` : "",
      d.added.length ? `${d.added.length} added` : "",
      d.removed.length ? `${d.removed.length} removed` : "",
    ].filter(Boolean);
    return bits.length ? `${what}: ${bits.join(", ")}` : "";
  };
  const parts = [part("nodes", diff.nodes), part("edges", diff.edges), part("parameters", diff.params)].filter(Boolean);
  return parts.length ? parts.join(" · ") : "no change to the graph";
}
