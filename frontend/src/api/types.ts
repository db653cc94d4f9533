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
  forked_from: unknown;
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
  certificate: unknown;
}

export interface LiveMessage<T = unknown> {
  type: "device.status" | "alert" | "compile.progress" | "certification.progress" | string;
  tenant: string;
  data: T;
}
