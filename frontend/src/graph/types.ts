// The rule graph document, aiot.graph/v1 (SPEC §3).

export interface ParamRef {
  $param: string;
}

export interface GraphNode {
  id: string;
  type: string;
  params?: Record<string, unknown>;
  label?: string;
  description?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: JsonSchema;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  [extra: string]: unknown;
}

export interface GraphDoc {
  format: "aiot.graph/v1";
  name?: string;
  description?: string;
  params?: JsonSchema;
  nodes: GraphNode[];
  edges: GraphEdge[];
  ui?: Record<string, { x: number; y: number; [extra: string]: unknown }>;
}

export const NODE_ID = /^[a-z][a-z0-9_]{0,63}$/;
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function isParamRef(value: unknown): value is ParamRef {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as ParamRef).$param === "string"
  );
}

/** "node.port" → ["node", "port"]; "node" → ["node", null]. */
export function splitTarget(to: string): [string, string | null] {
  const dot = to.indexOf(".");
  return dot < 0 ? [to, null] : [to.slice(0, dot), to.slice(dot + 1)];
}

export function emptyGraph(name = "Untitled"): GraphDoc {
  return { format: "aiot.graph/v1", name, params: { type: "object", properties: {} }, nodes: [], edges: [], ui: {} };
}
