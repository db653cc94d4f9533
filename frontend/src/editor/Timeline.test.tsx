// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { ActionRecord, SeriesPoint } from "../api/types";
import { markerLevels, normalizePoints, Timeline } from "./Timeline";

afterEach(cleanup);

const records: ActionRecord[] = [
  { action: "alarm", kind: "alert", key: "FL-07", ts: 3000, name: "overspeed", severity: "critical", message: "m", values: { speed: 12 } },
  { action: "cmd", kind: "command", key: "FL-07", ts: 3000, topic: "t", payload: {}, values: {} },
];

describe("<Timeline>", () => {
  it("reads [ts, key, value] points, and [ts, value] ones", () => {
    expect(normalizePoints([[1, "a", 2]])).toEqual([{ ts: 1, key: "a", value: 2 }]);
    expect(normalizePoints([[1, true]])).toEqual([{ ts: 1, key: "", value: true }]);
  });

  it("draws a row per node, a line per key, and a marker per action", () => {
    const series: Record<string, SeriesPoint[]> = {
      speed: [
        [1000, "FL-07", 6],
        [2000, "FL-07", 11],
        [1000, "FL-03", 4],
        [2000, "FL-03", null],
      ],
      fast: [
        [1000, "FL-07", false],
        [2000, "FL-07", true],
      ],
      zone: [[1000, "FL-07", "aisle"]],
    };
    const pick = vi.fn();
    render(<Timeline series={series} records={records} selected={null} onPick={pick} />);
    expect(screen.getByTestId("series-speed").querySelectorAll("path.tl-line")).toHaveLength(2);
    expect(screen.getByTestId("series-speed").querySelectorAll("circle.tl-missing")).toHaveLength(1);
    expect(screen.getByTestId("series-fast").getAttribute("class")).toMatch(/tl-bool/);
    expect(screen.getByTestId("series-zone").getAttribute("class")).toMatch(/tl-category/);
    fireEvent.click(screen.getByTestId("alert-marker-1"));
    expect(pick).toHaveBeenCalledWith(1);
    fireEvent.keyDown(screen.getByTestId("alert-marker-0"), { key: "Enter" });
    expect(pick).toHaveBeenCalledWith(0);
    expect(document.body.innerHTML).not.toMatch(/NaN/);
  });

  it("stacks the markers of actions close in time, so that each can be picked", () => {
    expect(markerLevels([100, 100, 105, 300])).toEqual([0, 1, 2, 0]);
    expect(markerLevels([300, 100, 100])).toEqual([0, 0, 1]);
    expect(Math.max(...markerLevels(new Array(50).fill(10)))).toBe(4);
    const pick = vi.fn();
    render(<Timeline series={{ a: [[3000, 1]] }} records={records} selected={null} onPick={pick} />);
    const tips = [0, 1].map((i) => screen.getByTestId(`alert-marker-${i}`).querySelector("path")!.getAttribute("d"));
    expect(tips[0]).not.toEqual(tips[1]);
    fireEvent.click(screen.getByTestId("alert-marker-0").querySelector("path")!);
    expect(pick).toHaveBeenCalledWith(0);
  });

  it("draws an empty chart without NaN", () => {
    render(<Timeline series={{ a: [] }} records={[]} selected={null} onPick={() => {}} />);
    expect(document.body.innerHTML).not.toMatch(/NaN/);
  });
});
