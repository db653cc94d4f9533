import { describe, expect, it } from "vitest";
import warehouse from "../__fixtures__/warehouse-graph.json";
import type { GraphDoc } from "./types";
import { diffGraphs, isEmptyDiff } from "./diff";

const base = warehouse as unknown as GraphDoc;

describe("diffGraphs", () => {
  it("finds nothing between a graph and itself, even with other positions and key order", () => {
    const moved: GraphDoc = structuredClone(base);
    moved.ui = Object.fromEntries(Object.entries(moved.ui ?? {}).map(([k, p]) => [k, { x: p.x + 10, y: p.y }]));
    moved.nodes = moved.nodes.map((n) => Object.fromEntries(Object.entries(n).reverse()) as typeof n);
    expect(isEmptyDiff(diffGraphs(base, moved))).toBe(true);
  });

  it("lists added, removed and changed nodes", () => {
    const after: GraphDoc = structuredClone(base);
    after.nodes = after.nodes.filter((n) => n.id !== "lidar");
    after.nodes.push({ id: "extra", type: "math.abs" });
    const fast = after.nodes.find((n) => n.id === "overspeed")!;
    fast.params = { ...fast.params, op: "ge" };
    fast.label = "Renamed";
    const d = diffGraphs(base, after);
    expect(d.nodes.added.map((n) => n.id)).toEqual(["extra"]);
    expect(d.nodes.removed.map((n) => n.id)).toEqual(["lidar"]);
    expect(d.nodes.changed).toEqual([
      {
        id: "overspeed",
        changes: [
          { field: "label", before: "Over the zone limit?", after: "Renamed" },
          { field: "params.op", before: "gt", after: "ge" },
        ],
      },
    ]);
  });

  it("lists added and removed edges", () => {
    const after: GraphDoc = structuredClone(base);
    after.edges = after.edges.filter((e) => !(e.from === "speed" && e.to === "moving.a"));
    after.edges.push({ from: "speed", to: "moving.b" });
    const d = diffGraphs(base, after);
    expect(d.edges.added).toEqual(["speed → moving.b"]);
    expect(d.edges.removed).toEqual(["speed → moving.a"]);
  });

  it("lists added, removed and changed blueprint parameters", () => {
    const after: GraphDoc = structuredClone(base);
    const props = after.params!.properties!;
    delete props.crawl_speed_kmh;
    props.new_limit = { type: "number", default: 1 };
    props.aisle_speed_limit_kmh = { ...props.aisle_speed_limit_kmh, default: 6 };
    const d = diffGraphs(base, after);
    expect(d.params.added).toEqual(["new_limit"]);
    expect(d.params.removed).toEqual(["crawl_speed_kmh"]);
    expect(d.params.changed).toEqual([{ name: "aisle_speed_limit_kmh", changes: [{ field: "default", before: 8, after: 6 }] }]);
    expect(isEmptyDiff(d)).toBe(false);
  });

  it("reports a changed name", () => {
    const d = diffGraphs(base, { ...base, name: "Other" });
    expect(d.meta).toEqual([{ field: "name", before: base.name, after: "Other" }]);
  });
});
