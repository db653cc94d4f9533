import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { phaseSteps } from "./DeploymentDetailPage";
import {
  DEFAULT_FORM,
  applyProgress,
  canaryPreview,
  countTargets,
  explainReason,
  formErrorsOf,
  groupsOf,
  isActive,
  progressOf,
  roundHalfEven,
  strategyText,
  toRequest,
  viewOf,
  type Deployment,
} from "./deployments";

const deployment = (over: Partial<Deployment> = {}): Deployment => ({
  id: 7,
  bundle: "b".repeat(64),
  group: "line-1",
  strategy: "canary",
  canary_count: 1,
  canary_percent: null,
  health_window_s: 30,
  timeout_s: 60,
  max_p99_ratio: 3,
  max_reject_increase: 0.2,
  state: "canary",
  reason: "",
  created_by: "op",
  created_at: "2026-01-01T00:00:00Z",
  canary_done_at: null,
  finished_at: null,
  targets: [
    { device: "gw-1", phase: "canary", state: "sent", previous_bundle_id: "a", error: "", sent_at: null, confirmed_at: null },
    { device: "gw-2", phase: "rest", state: "pending", previous_bundle_id: "a", error: "", sent_at: null, confirmed_at: null },
    { device: "gw-3", phase: "rest", state: "pending", previous_bundle_id: "a", error: "", sent_at: null, confirmed_at: null },
  ],
  ...over,
});

describe("deployment progress", () => {
  it("counts the devices by state and says how far it is", () => {
    const c = countTargets(deployment().targets);
    expect(c).toEqual({ pending: 2, sent: 1, running: 0, failed: 0, rolled_back: 0 });
    expect(progressOf("canary", c)).toEqual({ percent: 0, text: "0 of 3 devices run the new bundle · 1 updating" });
    expect(progressOf("rolling", { pending: 0, sent: 1, running: 2, failed: 0, rolled_back: 0 }).percent).toBe(67);
    expect(progressOf("done", { pending: 0, sent: 0, running: 1, failed: 0, rolled_back: 0 }).text).toBe("1 of 1 device run the new bundle");
    expect(progressOf("rolled_back", { pending: 2, sent: 0, running: 0, failed: 0, rolled_back: 1 }).text).toBe(
      "1 of 3 devices sent back to the previous bundle",
    );
    expect(progressOf("done", { pending: 0, sent: 0, running: 0, failed: 0, rolled_back: 0 }).text).toBe("No devices");
  });

  it("merges a live deployment.progress message into the list, or asks for the list again", () => {
    const rows = [viewOf(deployment()), viewOf(deployment({ id: 6, state: "done" }))];
    const next = applyProgress(rows, {
      deployment: 7,
      state: "rolling",
      reason: "",
      bundle: "b",
      group: "line-1",
      targets: { running: 1, sent: 2 },
    })!;
    expect(next[0].state).toBe("rolling");
    expect(next[0].counts).toEqual({ pending: 0, sent: 2, running: 1, failed: 0, rolled_back: 0 });
    expect(next[1]).toBe(rows[1]);
    expect(applyProgress(rows, { deployment: 99, state: "canary", reason: "", bundle: "", group: "", targets: {} })).toBeNull();
  });

  it("tells which deployments are under way", () => {
    expect(["canary", "rolling", "paused"].every(isActive)).toBe(true);
    expect(["done", "rolled_back"].some(isActive)).toBe(false);
  });

  it("places the deployment among its phases", () => {
    expect(phaseSteps(deployment())).toEqual({ steps: ["Canary", "Rollout", "Done"], current: 0, failedAt: -1 });
    expect(phaseSteps(deployment({ state: "rolling" })).current).toBe(1);
    expect(phaseSteps(deployment({ state: "paused", canary_done_at: "x" })).current).toBe(1);
    expect(phaseSteps(deployment({ state: "paused" })).current).toBe(0);
    expect(phaseSteps(deployment({ state: "rolled_back" }))).toEqual({ steps: ["Canary", "Rollout", "Rolled back"], current: 2, failedAt: 0 });
    expect(phaseSteps(deployment({ strategy: "all", state: "done" }))).toEqual({ steps: ["Rollout", "Done"], current: 1, failedAt: -1 });
  });

  it("describes the strategy", () => {
    expect(strategyText(deployment())).toBe("Canary: 1 device, then the rest");
    expect(strategyText(deployment({ canary_percent: 20, canary_count: 2 }))).toBe("Canary: 20% (2 devices), then the rest");
    expect(strategyText(deployment({ strategy: "all" }))).toBe("All at once");
  });
});

describe("the reason for a rollback, in plain words", () => {
  it("explains each health gate", () => {
    const rejects = explainReason("health gate failed: gw-02: rejects 100% of events since the swap, was 0%")!;
    expect(rejects.automatic).toBe(true);
    expect(rejects.title).toMatch(/automatically/);
    expect(rejects.detail).toBe(
      "gw-02 rejected 100% of its incoming events after the update, against 0% before: the new bundle does not accept this device's telemetry.",
    );
    expect(explainReason("health gate failed: gw-1: p99 12.5 ms per batch, was 0.8 ms")!.detail).toMatch(/^gw-1 became too slow: .*12\.5 ms.*0\.8 ms/);
    expect(explainReason("health gate failed: gw-1 runs the fallback interpreter: onnx failed")!.detail).toMatch(/^gw-1 could not run .*\(onnx failed\)/);
    expect(explainReason("health gate failed: did not report the new bundle within 30 s")!.detail).toMatch(/^A device did not confirm .* within 30 s/);
    expect(explainReason("health gate failed: gw-4: did not report the new bundle within 5 s")!.detail).toMatch(/^gw-4 did not confirm/);
    expect(explainReason("health gate failed: signature does not verify")!.detail).toBe(
      "A device refused or failed the new bundle: signature does not verify",
    );
  });

  it("tells a rollback by hand apart, and has nothing to say without a reason", () => {
    expect(explainReason("rolled back by hand")).toMatchObject({ automatic: false, title: "Rolled back by an operator" });
    expect(explainReason("")).toBeNull();
  });
});

describe("the new-deployment form", () => {
  it("builds the request: a canary by count or by percent, the reject limit as a fraction", () => {
    const form = { ...DEFAULT_FORM, bundle: "c".repeat(64), group: "line-1", healthWindow: "2", maxRejectIncrease: "25" };
    expect(toRequest(form)).toEqual({
      body: {
        bundle: "c".repeat(64),
        group: "line-1",
        strategy: "canary",
        canary_count: 1,
        health_window_s: 2,
        timeout_s: 60,
        max_p99_ratio: 3,
        max_reject_increase: 0.25,
      },
    });
    const pct = toRequest({ ...form, canaryBy: "percent", canaryPercent: "50" });
    expect("body" in pct && pct.body.canary_percent).toBe(50);
    expect("body" in pct && "canary_count" in pct.body).toBe(false);
    const all = toRequest({ ...form, strategy: "all" });
    expect("body" in all && ("canary_count" in all.body || "canary_percent" in all.body)).toBe(false);
  });

  it("says which fields are not numbers, and that a bundle must be chosen", () => {
    expect(toRequest({ ...DEFAULT_FORM, healthWindow: "", canaryCount: "1.5" })).toEqual({
      errors: { bundle: "Choose the bundle to deploy.", healthWindow: "Enter a number.", canaryCount: "Enter a whole number." },
    });
  });

  it("puts the studio's errors next to the fields they name", () => {
    const drf = new ApiError(400, "validation", "health_window_s: Ensure this value is greater than or equal to 0.", "health_window_s", {
      health_window_s: ["Ensure this value is greater than or equal to 0."],
      canary_count: ["Ensure this value is greater than or equal to 1."],
    });
    expect(formErrorsOf(drf)).toEqual({
      healthWindow: "Ensure this value is greater than or equal to 0.",
      canaryCount: "Ensure this value is greater than or equal to 1.",
    });
    const action = new ApiError(409, "conflict", "a deployment to line-1 is already under way: pause, finish or roll it back", "group");
    expect(formErrorsOf(action)).toEqual({ group: "a deployment to line-1 is already under way: pause, finish or roll it back" });
    expect(formErrorsOf(new ApiError(403, "forbidden", "you may not"))).toEqual({ _form: "you may not" });
  });

  it("previews the canary as the studio computes it", () => {
    const canary = { ...DEFAULT_FORM, strategy: "canary" as const };
    expect(canaryPreview(canary, 3)).toBe(1);
    expect(canaryPreview({ ...canary, canaryCount: "5" }, 3)).toBe(3);
    expect(canaryPreview({ ...canary, canaryBy: "percent", canaryPercent: "50" }, 5)).toBe(2); // round(2.5) = 2
    expect(canaryPreview({ ...canary, canaryBy: "percent", canaryPercent: "10" }, 3)).toBe(1);
    expect(canaryPreview({ ...canary, strategy: "all" }, 3)).toBeNull();
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(2.4)).toBe(2);
  });

  it("lists the device groups with their sizes", () => {
    expect(
      groupsOf([
        { group: "b", state: "online" },
        { group: "a", state: "offline" },
        { group: "b", state: "offline" },
        { group: "", state: "online" },
      ]),
    ).toEqual([
      { group: "a", devices: 1, online: 0 },
      { group: "b", devices: 2, online: 1 },
    ]);
  });
});
