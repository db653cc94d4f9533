// Deployments (docs/api.md, blueprints/api/deploy.py): their shapes, the live `deployment.progress`
// message merged into them, what the operator reads (phase, progress, the reason for a rollback),
// and the "New deployment" form's request and server errors.
import { ApiError } from "../api/client";

export type DeploymentState = "pending" | "canary" | "rolling" | "paused" | "done" | "rolled_back";
export type TargetState = "pending" | "sent" | "running" | "failed" | "rolled_back";
export const TARGET_STATES: TargetState[] = ["pending", "sent", "running", "failed", "rolled_back"];

export interface DeploymentTarget {
  device: string;
  phase: "canary" | "rest";
  state: TargetState;
  previous_bundle_id: string;
  error: string;
  sent_at: string | null;
  confirmed_at: string | null;
}

export interface Deployment {
  id: number;
  bundle: string;
  group: string;
  strategy: "all" | "canary";
  canary_count: number;
  canary_percent: number | null;
  health_window_s: number;
  timeout_s: number;
  max_p99_ratio: number;
  max_reject_increase: number;
  state: DeploymentState;
  reason: string;
  created_by: string | null;
  created_at: string;
  canary_done_at: string | null;
  finished_at: string | null;
  targets: DeploymentTarget[];
}

export type TargetCounts = Record<TargetState, number>;

/** The data of a live `deployment.progress` message. */
export interface DeploymentProgress {
  deployment: number;
  state: DeploymentState;
  reason: string;
  bundle: string;
  group: string;
  targets: Partial<TargetCounts>;
}

export function isProgress(data: unknown): data is DeploymentProgress {
  const d = data as DeploymentProgress | null;
  return !!d && typeof d === "object" && typeof d.deployment === "number" && typeof d.state === "string";
}

/** Under way: the group is busy (a new deployment to it is refused until this one ends). */
export function isActive(state: string): boolean {
  return state === "canary" || state === "rolling" || state === "paused" || state === "pending";
}

export function countTargets(targets: Pick<DeploymentTarget, "state">[]): TargetCounts {
  const counts: TargetCounts = { pending: 0, sent: 0, running: 0, failed: 0, rolled_back: 0 };
  for (const t of targets) if (t.state in counts) counts[t.state] += 1;
  return counts;
}

export function normalizeCounts(counts: Partial<TargetCounts> | null | undefined): TargetCounts {
  const out: TargetCounts = { pending: 0, sent: 0, running: 0, failed: 0, rolled_back: 0 };
  for (const k of TARGET_STATES) out[k] = Math.max(0, Number(counts?.[k] ?? 0) || 0);
  return out;
}

export const totalOf = (c: TargetCounts) => TARGET_STATES.reduce((n, k) => n + c[k], 0);

/** A deployment as the list and the dashboard show it: its counts, from the live message when one came. */
export interface DeploymentView extends Deployment {
  counts: TargetCounts;
}

export function viewOf(d: Deployment): DeploymentView {
  return { ...d, counts: countTargets(d.targets ?? []) };
}

/** Merges a progress message into a list: state, reason and counts of the deployment it names.
 *  Returns null when the list does not have it (the caller fetches the list again). */
export function applyProgress(rows: DeploymentView[], p: DeploymentProgress): DeploymentView[] | null {
  const i = rows.findIndex((r) => r.id === p.deployment);
  if (i < 0) return null;
  const row = rows[i];
  const next: DeploymentView = { ...row, state: p.state, reason: p.reason ?? row.reason, counts: normalizeCounts(p.targets) };
  return rows.map((r, j) => (j === i ? next : r));
}

export const PHASE_LABEL: Record<DeploymentState, string> = {
  pending: "Starting",
  canary: "Canary",
  rolling: "Rolling out",
  paused: "Paused",
  done: "Done",
  rolled_back: "Rolled back",
};

export function phaseLabel(state: string): string {
  return PHASE_LABEL[state as DeploymentState] ?? state;
}

export const TARGET_LABEL: Record<TargetState, string> = {
  pending: "Waiting",
  sent: "Updating",
  running: "Runs the new bundle",
  failed: "Failed",
  rolled_back: "Rolled back",
};

/** The bar's value and the sentence under it. */
export function progressOf(state: string, c: TargetCounts): { percent: number; text: string } {
  const total = totalOf(c);
  if (total === 0) return { percent: 0, text: "No devices" };
  const devices = (n: number) => `${n} device${n === 1 ? "" : "s"}`;
  if (state === "rolled_back") {
    const back = c.rolled_back;
    return {
      percent: Math.round((c.running / total) * 100),
      text: back
        ? `${back} of ${devices(total)} sent back to the previous bundle`
        : `No device had the new bundle; ${devices(total)} unchanged`,
    };
  }
  const parts = [`${c.running} of ${devices(total)} run the new bundle`];
  if (c.sent) parts.push(`${c.sent} updating`);
  if (c.failed) parts.push(`${c.failed} failed`);
  return { percent: Math.round((c.running / total) * 100), text: parts.join(" · ") };
}

export function strategyText(d: Pick<Deployment, "strategy" | "canary_count" | "canary_percent">): string {
  if (d.strategy !== "canary") return "All at once";
  const n = `${d.canary_count} device${d.canary_count === 1 ? "" : "s"}`;
  return d.canary_percent ? `Canary: ${d.canary_percent}% (${n}), then the rest` : `Canary: ${n}, then the rest`;
}

export const groupLabel = (group: string) => group || "every device";

/** Why a deployment was rolled back, in plain words (the studio's reason is terse). */
export function explainReason(reason: string): { automatic: boolean; title: string; detail: string } | null {
  const r = (reason ?? "").trim();
  if (!r) return null;
  const gate = /^health gate failed:\s*(.*)$/s.exec(r);
  if (!gate) {
    if (/^rolled back by hand$/i.test(r)) return { automatic: false, title: "Rolled back by an operator", detail: "Every updated device was sent back to its previous bundle." };
    return { automatic: false, title: "Rolled back", detail: r };
  }
  const title = "Rolled back automatically: a device failed the health check";
  const why = gate[1];
  let m = /^(\S+) runs the fallback interpreter:\s*(.*)$/s.exec(why);
  if (m)
    return {
      automatic: true,
      title,
      detail: `${m[1]} could not run the new bundle's compiled model and fell back to the slower reference interpreter (${m[2]}).`,
    };
  m = /^(\S+): p99 ([\d.]+) ms per batch, was ([\d.]+) ms$/.exec(why);
  if (m)
    return {
      automatic: true,
      title,
      detail: `${m[1]} became too slow: 99% of its batches took up to ${m[2]} ms with the new bundle, against ${m[3]} ms before.`,
    };
  m = /^(\S+): rejects (\d+)% of events since the swap, was (\d+)%$/.exec(why);
  if (m)
    return {
      automatic: true,
      title,
      detail: `${m[1]} rejected ${m[2]}% of its incoming events after the update, against ${m[3]}% before: the new bundle does not accept this device's telemetry.`,
    };
  m = /^(?:(\S+): )?did not report the new bundle within ([\d.]+) s$/.exec(why);
  if (m)
    return {
      automatic: true,
      title,
      detail: `${m[1] ?? "A device"} did not confirm it runs the new bundle within ${m[2]} s: it may have gone offline, or could not download or verify the bundle.`,
    };
  m = /^(\S+): (.*)$/s.exec(why);
  if (m) return { automatic: true, title, detail: `${m[1]} refused or failed the new bundle: ${m[2]}` };
  return { automatic: true, title, detail: `A device refused or failed the new bundle: ${why}` };
}

// ------------------------------------------------------------------------------ the new-deployment form
export interface DeploymentForm {
  bundle: string;
  group: string;
  strategy: "all" | "canary";
  canaryBy: "count" | "percent";
  canaryCount: string;
  canaryPercent: string;
  healthWindow: string;
  timeout: string;
  maxP99Ratio: string;
  /** percentage points the reject rate may grow by (the API takes a fraction) */
  maxRejectIncrease: string;
}

/** The studio's defaults (DeploymentCreateSerializer). */
export const DEFAULT_FORM: DeploymentForm = {
  bundle: "",
  group: "",
  strategy: "canary",
  canaryBy: "count",
  canaryCount: "1",
  canaryPercent: "10",
  healthWindow: "30",
  timeout: "60",
  maxP99Ratio: "3",
  maxRejectIncrease: "20",
};

/** The form field each API field is shown under. */
export const FIELD_OF: Record<string, keyof DeploymentForm | "_form"> = {
  bundle: "bundle",
  group: "group",
  strategy: "strategy",
  canary_count: "canaryCount",
  canary_percent: "canaryPercent",
  health_window_s: "healthWindow",
  timeout_s: "timeout",
  max_p99_ratio: "maxP99Ratio",
  max_reject_increase: "maxRejectIncrease",
};

export type FormErrors = Partial<Record<keyof DeploymentForm | "_form", string>>;

/** The request body, or the fields that are not numbers. Ranges are the studio's to check. */
export function toRequest(form: DeploymentForm): { body: Record<string, unknown> } | { errors: FormErrors } {
  const errors: FormErrors = {};
  const num = (key: keyof DeploymentForm, integer = false): number => {
    const raw = String(form[key]).trim();
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) errors[key] = "Enter a number.";
    else if (integer && !Number.isInteger(n)) errors[key] = "Enter a whole number.";
    return n;
  };
  if (!form.bundle) errors.bundle = "Choose the bundle to deploy.";
  const body: Record<string, unknown> = {
    bundle: form.bundle,
    group: form.group,
    strategy: form.strategy,
    health_window_s: num("healthWindow"),
    timeout_s: num("timeout"),
    max_p99_ratio: num("maxP99Ratio"),
    max_reject_increase: num("maxRejectIncrease") / 100,
  };
  if (form.strategy === "canary") {
    if (form.canaryBy === "percent") body.canary_percent = num("canaryPercent", true);
    else body.canary_count = num("canaryCount", true);
  }
  return Object.keys(errors).length ? { errors } : { body };
}

/** A server error, put next to the fields it names (the rest above the buttons). */
export function formErrorsOf(err: unknown): FormErrors {
  if (!(err instanceof ApiError)) return { _form: err instanceof Error ? err.message : String(err) };
  const out: FormErrors = {};
  const details = err.details;
  if (details && typeof details === "object" && !Array.isArray(details)) {
    for (const [k, v] of Object.entries(details as Record<string, unknown>)) {
      const key = FIELD_OF[k] ?? "_form";
      const text = (Array.isArray(v) ? v : [v]).map(String).join(" ");
      out[key] = out[key] ? `${out[key]} ${text}` : text;
    }
  }
  if (Object.keys(out).length === 0) {
    const key = (err.field && FIELD_OF[err.field]) || "_form";
    // "group: no devices in group 'x'" → the message without the field's name, next to the field
    out[key] = key !== "_form" && err.field ? err.message.replace(new RegExp(`^${err.field}: `), "") : err.message;
  }
  if (out.maxRejectIncrease) out.maxRejectIncrease += " (as a fraction: 1 = 100 points)";
  return out;
}

/** Python's round(): halves to even, as the studio rounds a canary percentage. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (Math.abs(diff - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

/** How many devices the canary will have (as the studio computes it), or null when not a canary. */
export function canaryPreview(form: DeploymentForm, devices: number): number | null {
  if (form.strategy !== "canary" || devices <= 0) return null;
  let n: number;
  if (form.canaryBy === "percent") {
    const pct = Number(form.canaryPercent);
    if (!Number.isFinite(pct) || pct <= 0) return null;
    n = Math.max(1, roundHalfEven((devices * pct) / 100));
  } else {
    n = Number(form.canaryCount);
    if (!Number.isFinite(n)) return null;
  }
  return Math.min(Math.max(1, n), devices);
}

/** The groups of the tenant's devices, with how many devices and how many of them are online. */
export function groupsOf(devices: { group: string; state: string }[]): { group: string; devices: number; online: number }[] {
  const by = new Map<string, { group: string; devices: number; online: number }>();
  for (const d of devices) {
    const g = by.get(d.group) ?? { group: d.group, devices: 0, online: 0 };
    g.devices += 1;
    if (d.state === "online") g.online += 1;
    by.set(d.group, g);
  }
  return [...by.values()].filter((g) => g.group !== "").sort((a, b) => a.group.localeCompare(b.group));
}
