// Merging live `device.status` messages into the device list, and the rates shown from them.
import type { Device, DeviceStatus } from "../api/types";

export interface DeviceRow extends Device {
  eventsPerSecond: number | null;
}

/** A device.status message's data: the device with its status, in one of a few spellings. */
export function deviceFromMessage(data: unknown): { id: string; patch: Partial<Device> } | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Partial<Device> & { device?: string | { device_id?: string }; status?: DeviceStatus };
  const id = d.device_id ?? (typeof d.device === "string" ? d.device : d.device?.device_id);
  if (!id) return null;
  const status = d.last_status ?? d.status ?? null;
  const patch: Partial<Device> = { device_id: id };
  if (d.name !== undefined) patch.name = d.name;
  if (d.group !== undefined) patch.group = d.group;
  if (d.bundle !== undefined) patch.bundle = d.bundle;
  if (d.last_seen !== undefined) patch.last_seen = d.last_seen;
  if (status) {
    patch.last_status = status;
    if (status.bundle !== undefined && d.bundle === undefined) patch.bundle = status.bundle ?? null;
  }
  const state = d.state ?? status?.state;
  if (state !== undefined) patch.state = state;
  return { id, patch };
}

/** Events per second: from two successive statuses (by uptime), else the lifetime average. */
export function eventsPerSecond(prev: DeviceStatus | null | undefined, next: DeviceStatus | null | undefined): number | null {
  if (!next) return null;
  const direct = (next as { events_per_s?: unknown }).events_per_s;
  if (typeof direct === "number") return direct;
  if (typeof next.events_in !== "number") return null;
  if (prev && typeof prev.events_in === "number" && typeof prev.uptime_s === "number" && typeof next.uptime_s === "number") {
    const dt = next.uptime_s - prev.uptime_s;
    const dn = next.events_in - prev.events_in;
    if (dt > 0 && dn >= 0) return dn / dt;
  }
  if (typeof next.uptime_s === "number" && next.uptime_s > 0) return next.events_in / next.uptime_s;
  return null;
}

export function mergeDevice(rows: DeviceRow[], data: unknown): DeviceRow[] {
  const m = deviceFromMessage(data);
  if (!m) return rows;
  const i = rows.findIndex((r) => r.device_id === m.id);
  if (i < 0) {
    const row: DeviceRow = {
      device_id: m.id,
      name: "",
      group: "",
      state: "unknown",
      bundle: null,
      last_status: null,
      last_seen: null,
      ...m.patch,
      eventsPerSecond: eventsPerSecond(null, m.patch.last_status),
    };
    return [...rows, row].sort((a, b) => a.device_id.localeCompare(b.device_id));
  }
  const old = rows[i];
  const merged: DeviceRow = {
    ...old,
    ...m.patch,
    last_seen: m.patch.last_seen ?? (m.patch.last_status ? new Date().toISOString() : old.last_seen),
    eventsPerSecond: m.patch.last_status ? eventsPerSecond(old.last_status, m.patch.last_status) : old.eventsPerSecond,
  };
  return rows.map((r, j) => (j === i ? merged : r));
}

/** A status's `blueprint`: `{slug, version}` from the bundle's manifest (a string from older agents). */
export function blueprintLabel(value: unknown): string {
  if (value && typeof value === "object") {
    const b = value as { slug?: unknown; version?: unknown };
    return [b.slug, b.version].filter((x) => typeof x === "string" && x).join(" ");
  }
  return typeof value === "string" ? value : "";
}
