// The node-type registry as GET /api/v1/node-types serves it (aiot.node-types/v1).
import type { JsonSchema } from "../graph/types";

export interface PortTypeJson {
  kind: string;
  enum?: string[];
}

export interface PortSpec {
  name: string;
  type: PortTypeJson;
  doc: string;
  required: boolean;
}

export interface NodeTypeSpec {
  type: string;
  group: string;
  doc: string;
  params_schema: JsonSchema;
  inputs: PortSpec[];
  /** null: the output type depends on the node (a field's schema, a const's value…). */
  output: PortTypeJson | null;
  stateful: boolean;
  variadic?: { prefix: string; type: PortTypeJson; min: number };
  open_ports?: { type: PortTypeJson; doc: string };
}

export interface Registry {
  format: string;
  groups: { id: string; title: string }[];
  port_types: string[];
  /** port kind → the output kinds it accepts */
  compatibility: Record<string, string[]>;
  node_types: NodeTypeSpec[];
}
