// Shapes of the studio API (docs/api.md). Only what the app reads is typed.
import type { GraphDoc } from "../graph/types";

export type Capability = "read" | "edit" | "operate" | "publish" | "admin";
export type Role = "viewer" | "operator" | "designer" | "publisher" | "admin";
export const ROLES: Role[] = ["viewer", "operator", "designer", "publisher", "admin"];

export interface User {
  id: number;
  username: string;
  is_platform_admin: boolean;
}

export interface Membership {
  tenant: { slug: string; name: string };
  role: Role;
  capabilities: Capability[];
}

export interface Me {
  user: User;
  memberships: Membership[];
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface Problem {
  node: string | null;
  path: string;
  code: string;
  message: string;
}

export interface Blueprint {
  slug: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  /** the highest version (any state) */
  latest_version: LatestVersion | null;
  versions_count: number;
  /** the version it was installed (from the catalog) or forked from */
  forked_from: ForkedFrom | null;
}

export interface LatestVersion {
  version: string;
  state: VersionState;
  created_at: string;
  submitted_at: string | null;
}

export type VersionState = "draft" | "certifying" | "certified" | "failed" | "published" | "deprecated";

export interface TraceLine {
  topic: string;
  payload: unknown;
  arrival_ms?: number;
}

export interface Scenario {
  name: string;
  description?: string;
  params?: Record<string, unknown>;
  trace: TraceLine[];
  expected?: unknown[];
  expected_summary?: unknown;
  [extra: string]: unknown;
}

export interface BlueprintVersion {
  version: string;
  state: VersionState;
  graph: GraphDoc;
  readme: string;
  scenarios: Scenario[];
  params_schema?: unknown;
  problems?: Problem[];
  created_by?: string | null;
  created_at: string;
  submitted_at?: string | null;
  bundle?: unknown;
}

export interface ActionRecord {
  action: string;
  kind: "alert" | "command";
  key: string;
  ts: number;
  name?: string;
  severity?: string;
  message?: string;
  topic?: string;
  payload?: unknown;
  values: Record<string, unknown>;
}

export type SeriesValue = number | boolean | string | null;
/** `[ts, key, value]` as the studio sends it (`[ts, value]` is read too). */
export type SeriesPoint = [number, string, SeriesValue] | [number, SeriesValue];

export interface SimulateResult {
  records: ActionRecord[];
  summary: Record<string, unknown>;
  series: Record<string, SeriesPoint[]>;
  counts: Record<string, { evaluated: number; fired: number }>;
  truncated: boolean;
}

export interface Bundle {
  bundle_id: string;
  blueprint: string;
  version: string;
  params: Record<string, unknown>;
  size: number;
  created_by: string | null;
  created_at: string;
  download_url: string;
}

export interface CompileProgress {
  task_id: string;
  blueprint: string;
  version: string;
  step: string;
  progress: number;
  state: string;
  bundle_id?: string;
  error?: string;
}

export interface DeviceStatus {
  state?: string;
  bundle?: string | null;
  blueprint?: string | null;
  uptime_s?: number;
  events_in?: number;
  events_rejected?: number;
  actions_out?: number;
  eval_ms?: { p50?: number; p99?: number };
  ts?: number;
  [extra: string]: unknown;
}

export interface Device {
  device_id: string;
  name: string;
  group: string;
  state: string;
  bundle: string | null;
  last_status: DeviceStatus | null;
  last_seen: string | null;
}

export interface Alert {
  id: number;
  device: string;
  action: string;
  name: string;
  severity: string;
  message: string;
  key: string;
  ts: number;
  values: Record<string, unknown>;
  received_at: string;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
}

export interface Member {
  id: number;
  username: string;
  role: Role;
  created_at: string;
}

export interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  secret?: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  object_type: string;
  object_id: string;
  before: unknown;
  after: unknown;
}

export interface CatalogEntry {
  id: number | string;
  tenant: string;
  slug: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  version: string;
  readme: string;
  params_schema: unknown;
  state?: VersionState;
  required_telemetry?: TelemetryRequirement[];
  budget?: Record<string, unknown>;
  certificate: Certificate | null;
}

export interface LiveMessage<T = unknown> {
  type: "device.status" | "alert" | "compile.progress" | "certification.progress" | string;
  tenant: string;
  data: T;
}

// --- certification and the catalog (docs/catalog.md) ---------------------------------------------

export interface ForkedFrom {
  tenant: string;
  blueprint: string;
  version: string;
}

export type CertificationStepName =
  | "schema"
  | "static"
  | "compile"
  | "reproducible"
  | "scenarios"
  | "differential"
  | "robustness"
  | "performance";

/** One step's result as the worker records it (GET …/certification/, the signed report). */
export interface CertificationStepResult {
  step: string;
  status: "passed" | "failed" | "skipped";
  message?: string;
  figures?: Record<string, unknown>;
  /** for a failed step: what failed and the inputs to run it again (trace, outputs, problems) */
  repro?: Record<string, unknown>;
  elapsed_s?: number;
}

export interface Certification {
  id: number;
  state: "running" | "certified" | "failed";
  steps: CertificationStepResult[];
  started_at: string;
  finished_at: string | null;
  report_available: boolean;
}

/** `certification.progress`: a step starts (`running`), ends (its result), then `step: "report"`. */
export interface CertificationProgress {
  certification: number;
  blueprint: string;
  version: string;
  step: string;
  index: number;
  total: number;
  status: string;
  message?: string;
  figures?: Record<string, unknown>;
  elapsed_s?: number;
  verdict?: "certified" | "failed";
}

export interface SignedReport {
  format: string;
  document: {
    format: string;
    tenant: string;
    blueprint: string;
    version: string;
    compiler: string;
    verdict: string;
    steps: CertificationStepResult[];
    started_at: string;
    finished_at: string;
    [extra: string]: unknown;
  };
  signature: string;
  signer: { alg: string; key_id: string; public_key: string };
}

export interface Certificate {
  verdict: string;
  finished_at: string | null;
  /** per step */
  figures: Record<string, Record<string, unknown>>;
  /** an entry's own page only (GET /catalog/{id}/); the list leaves it out */
  signed_report?: SignedReport;
}

export interface TelemetryRequirement {
  source: string;
  topic: string | null;
  key: string | null;
  schema: unknown;
}

/** What GET …/upgrades says changed: ids only (a node, an edge "from→to", a parameter). */
export interface VersionDiffSummary {
  nodes: { added: string[]; removed: string[]; changed: string[] };
  edges: { added: string[]; removed: string[] };
  params: { added: string[]; removed: string[]; changed: string[] };
}

export interface Upgrade {
  catalog_id: number;
  version: string;
  diff: VersionDiffSummary;
}

export interface Installed {
  tenant: string;
  slug: string;
  version: string;
}
