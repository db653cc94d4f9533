// Unsaved work kept in localStorage, one draft per blueprint, so that nothing is lost when the
// tab closes or the user navigates away.
import type { Scenario } from "../api/types";
import type { GraphDoc } from "../graph/types";

export interface Draft {
  baseVersion: string;
  graph: GraphDoc;
  readme: string;
  scenarios: Scenario[];
  savedAt: number;
}

export const draftKey = (tenant: string, slug: string) => `aiot.draft.v1.${tenant}.${slug}`;

export function saveDraft(tenant: string, slug: string, draft: Draft): void {
  try {
    localStorage.setItem(draftKey(tenant, slug), JSON.stringify(draft));
  } catch {
    /* storage full or disabled: the leave warning still protects the work */
  }
}

export function loadDraft(tenant: string, slug: string): Draft | null {
  try {
    const raw = localStorage.getItem(draftKey(tenant, slug));
    if (!raw) return null;
    const d = JSON.parse(raw) as Draft;
    return d && d.graph && Array.isArray(d.graph.nodes) ? d : null;
  } catch {
    return null;
  }
}

export function clearDraft(tenant: string, slug: string): void {
  try {
    localStorage.removeItem(draftKey(tenant, slug));
  } catch {
    /* ignore */
  }
}
