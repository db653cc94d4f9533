import { describe, expect, it } from "vitest";
import { blueprintLabel, deviceFromMessage, eventsPerSecond, mergeDevice, type DeviceRow } from "./devices";

const row = (over: Partial<DeviceRow> = {}): DeviceRow => ({
  device_id: "gw-1",
  name: "Gateway 1",
  group: "dock",
  state: "offline",
  bundle: null,
  last_status: null,
  last_seen: null,
  eventsPerSecond: null,
  ...over,
});

describe("live device status", () => {
  it("reads the device id and status from a message", () => {
    expect(deviceFromMessage({ device_id: "a", state: "online", last_status: { state: "online", events_in: 3 } })?.patch).toMatchObject({
      device_id: "a",
      state: "online",
    });
    expect(deviceFromMessage({ device: "b", status: { state: "offline" } })?.patch.state).toBe("offline");
    expect(deviceFromMessage({})).toBeNull();
  });

  it("updates a row in place: state, bundle, p99 and events per second", () => {
    const rows = [row({ last_status: { state: "online", events_in: 100, uptime_s: 10 } })];
    const next = mergeDevice(rows, {
      device_id: "gw-1",
      last_status: { state: "online", bundle: "abc", events_in: 160, uptime_s: 15, eval_ms: { p50: 0.2, p99: 1.5 } },
    });
    expect(next).toHaveLength(1);
    expect(next[0].state).toBe("online");
    expect(next[0].bundle).toBe("abc");
    expect(next[0].eventsPerSecond).toBe(12);
    expect(next[0].last_status?.eval_ms?.p99).toBe(1.5);
    expect(next[0].name).toBe("Gateway 1");
  });

  it("adds a device it did not know", () => {
    const next = mergeDevice([row()], { device_id: "gw-0", state: "online" });
    expect(next.map((d) => d.device_id)).toEqual(["gw-0", "gw-1"]);
  });

  it("falls back to the lifetime average rate", () => {
    expect(eventsPerSecond(null, { events_in: 50, uptime_s: 10 })).toBe(5);
    expect(eventsPerSecond(null, { state: "offline" })).toBeNull();
  });

  it("names the blueprint a device runs", () => {
    expect(blueprintLabel({ slug: "cold-chain-monitor", version: "1.0.0" })).toBe("cold-chain-monitor 1.0.0");
    expect(blueprintLabel("overspeed")).toBe("overspeed");
    expect(blueprintLabel(null)).toBe("");
  });
});
