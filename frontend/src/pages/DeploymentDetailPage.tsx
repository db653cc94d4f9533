// One deployment, live: its phase, the devices' progress, why it was rolled back, and the
// operator's Pause / Resume / Roll back. Loaded from GET on mount; `deployment.progress` moves
// the phase and the counts at once and fetches the per-device detail again (at most every 400 ms).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, ApiError, resultsOf, tenantPath } from "../api/client";
import { useLive } from "../api/live";
import type { Bundle, Device, Page } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Spinner, formatTime } from "../components/ui";
import {
  TARGET_LABEL,
  countTargets,
  explainReason,
  groupLabel,
  isProgress,
  normalizeCounts,
  phaseLabel,
  progressOf,
  strategyText,
  type Deployment,
  type DeploymentProgress,
  type DeploymentTarget,
} from "./deployments";
import { CountChips, DeploymentBar, DeploymentStateBadge, bundleLabel } from "./DeploymentsPage";
import { mergeDevice, type DeviceRow } from "./devices";
import "./deployments.css";

/** The steps shown above the bar, the one the deployment is at, and the one it failed at (or -1). */
export function phaseSteps(d: Pick<Deployment, "strategy" | "state" | "canary_done_at">) {
  const canary = d.strategy === "canary";
  const steps = canary ? ["Canary", "Rollout"] : ["Rollout"];
  steps.push(d.state === "rolled_back" ? "Rolled back" : "Done");
  const rollout = canary ? 1 : 0;
  const stoppedAt = canary && d.canary_done_at === null ? 0 : rollout; // for paused and rolled back
  let current = stoppedAt;
  if (d.state === "canary") current = 0;
  else if (d.state === "rolling") current = rollout;
  else if (d.state === "done" || d.state === "rolled_back") current = steps.length - 1;
  return { steps, current, failedAt: d.state === "rolled_back" ? stoppedAt : -1 };
}

function stepClass(i: number, current: number, failedAt: number, state: string): string {
  if (failedAt >= 0) {
    // rolled back: green up to the step it failed at, red there and at the end, grey between
    if (i === current) return "failed current";
    return i === failedAt ? "failed" : i < failedAt ? "past" : "";
  }
  if (i === current) return state === "done" ? "past current" : "current";
  return i < current ? "past" : "";
}

function ago(iso: string | null | undefined): string {
  return iso ? formatTime(iso) : "—";
}

function useGroupDevices(tenant: string, group: string | undefined) {
  const [rows, setRows] = useState<DeviceRow[]>([]);
  useEffect(() => {
    if (group === undefined) return;
    let stale = false;
    api<Device[] | Page<Device>>(tenantPath(tenant, "/devices/"), { query: { group: group || undefined, page_size: 500 } })
      .then((res) => !stale && setRows(resultsOf(res).map((d) => ({ ...d, eventsPerSecond: null }))))
      .catch(() => undefined); // the device column is a convenience: the targets are the record
    return () => {
      stale = true;
    };
  }, [tenant, group]);
  useLive(["device.status"], (msg) =>
    setRows((old) =>
      (Array.isArray(msg.data) ? msg.data : [msg.data]).reduce(
        (acc: DeviceRow[], d) => (acc.some((r) => r.device_id === (d as Device)?.device_id) ? mergeDevice(acc, d) : acc),
        old,
      ),
    ),
  );
  return useMemo(() => new Map(rows.map((r) => [r.device_id, r])), [rows]);
}

export function DeploymentDetailPage() {
  const { tenant, can } = useTenant();
  const { id = "" } = useParams();
  const [detail, setDetail] = useState<Deployment | null>(null);
  const [live, setLive] = useState<DeploymentProgress | null>(null);
  const [bundle, setBundle] = useState<Bundle | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const seq = useRef(0);
  const messages = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    const seen = messages.current;
    try {
      const d = await api<Deployment>(tenantPath(tenant, `/deployments/${encodeURIComponent(id)}/`));
      if (mine !== seq.current) return;
      setDetail(d);
      setError(null);
      if (messages.current === seen) setLive(null); // the answer is as new as every message
    } catch (err) {
      if (mine === seq.current) setError(err);
    }
  }, [tenant, id]);

  useEffect(() => {
    setDetail(null);
    setLive(null);
    void load();
    return () => clearTimeout(timer.current);
  }, [load]);

  useEffect(() => {
    if (!detail?.bundle || bundle?.bundle_id === detail.bundle) return;
    api<Bundle>(tenantPath(tenant, `/bundles/${detail.bundle}/`))
      .then(setBundle)
      .catch(() => undefined); // the id is shown anyway
  }, [tenant, detail?.bundle, bundle?.bundle_id]);

  useLive(["deployment.progress"], (msg) => {
    if (!isProgress(msg.data) || String(msg.data.deployment) !== id) return;
    messages.current += 1;
    setLive(msg.data);
    if (timer.current === undefined) {
      timer.current = setTimeout(() => {
        timer.current = undefined;
        void load();
      }, 400);
    }
  });

  const devices = useGroupDevices(tenant, detail?.group);

  if (error instanceof ApiError && error.status === 404) {
    return (
      <div className="page">
        <h1>Deployment not found</h1>
        <Link to={`/t/${tenant}/deployments`}>All deployments</Link>
      </div>
    );
  }
  if (!detail) return <div className="page">{error ? <ErrorNote error={error} /> : <Spinner />}</div>;

  const state = live?.state ?? detail.state;
  const reason = live ? live.reason : detail.reason;
  const counts = live ? normalizeCounts(live.targets) : countTargets(detail.targets);
  const { text } = progressOf(state, counts);
  const view = { ...detail, state };
  const { steps, current, failedAt } = phaseSteps(view);
  const explained = state === "rolled_back" ? explainReason(reason) : null;
  const canaries = detail.targets.filter((t) => t.phase === "canary");

  const act = async (what: "pause" | "resume" | "rollback") => {
    setBusy(what);
    setActionError(null);
    try {
      const d = await api<Deployment>(tenantPath(tenant, `/deployments/${detail.id}/${what}/`), { method: "POST" });
      setDetail(d);
      setLive(null);
      setConfirming(false);
    } catch (err) {
      setActionError(err);
      void load();
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="page" data-testid="deployment-detail" data-state={state}>
      <Link to={`/t/${tenant}/deployments`} className="crumb">
        ← Deployments
      </Link>
      <header className="page-head">
        <div>
          <h1>
            Deployment #{detail.id}: {bundleLabel(bundle ?? undefined, detail.bundle)} → {groupLabel(detail.group)}
          </h1>
          <p className="muted">
            {strategyText(detail)} · started {formatTime(detail.created_at)}
            {detail.created_by ? ` by ${detail.created_by}` : ""}
          </p>
        </div>
        <span className="spacer" />
        {can("operate") && (
          <div className="row wrap">
            {(state === "canary" || state === "rolling") && (
              <button type="button" onClick={() => void act("pause")} disabled={!!busy} data-testid="deployment-pause">
                Pause
              </button>
            )}
            {state === "paused" && (
              <button type="button" className="primary" onClick={() => void act("resume")} disabled={!!busy} data-testid="deployment-resume">
                Resume
              </button>
            )}
            {state !== "rolled_back" && (
              <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={!!busy} data-testid="deployment-rollback">
                Roll back…
              </button>
            )}
          </div>
        )}
      </header>
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      {error ? <ErrorNote error={error} /> : null}

      <section className="card" aria-labelledby="deploy-progress-title">
        <header className="card-head">
          <h2 id="deploy-progress-title">Progress</h2>
          <DeploymentStateBadge state={state} testId="deployment-state" />
          <span className="spacer" />
        </header>
        <ol className="phases" aria-label="Phases">
          {steps.map((s, i) => (
            <li
              key={s}
              className={stepClass(i, current, failedAt, state)}
              aria-current={i === current ? "step" : undefined}
            >
              <span className="dot" aria-hidden="true" />
              {s}
            </li>
          ))}
        </ol>
        <p data-testid="deployment-phase" aria-live="polite">
          <strong>{phaseLabel(state)}</strong>
          {state === "canary" &&
            ` — ${canaries.length} canary device${canaries.length === 1 ? "" : "s"} first; the rest follow after ${detail.health_window_s} s healthy.`}
          {state === "rolling" && " — the bundle goes to every device of the group."}
          {state === "paused" && " — no new device gets the bundle until you resume."}
          {state === "done" && ` — every online device runs the new bundle${detail.finished_at ? ` (${formatTime(detail.finished_at)})` : ""}.`}
          {state === "rolled_back" && " — every device that got the bundle was sent back to the one it ran before."}
        </p>
        <div className="deploy-progress">
          <DeploymentBar state={state} counts={counts} testId="deployment-progress" />
          <span className="deploy-progress-text" data-testid="deployment-progress-text">
            {text}
          </span>
          <CountChips counts={counts} testId="deployment-counts" />
        </div>
        {explained && (
          <div className={`reason${explained.automatic ? "" : " manual"}`} role="alert" data-testid="deployment-reason">
            <strong>{explained.title}</strong>
            <span data-testid="deployment-reason-detail">{explained.detail}</span>
            <div className="raw">{reason}</div>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="deploy-devices-title">
        <header className="card-head">
          <h2 id="deploy-devices-title">Devices</h2>
          <span className="muted small">{detail.targets.length} in {groupLabel(detail.group)}</span>
        </header>
        <div className="table-wrap">
          <table className="table" data-testid="deployment-targets">
            <thead>
              <tr>
                <th>Device</th>
                <th>Phase</th>
                <th>Progress</th>
                <th>Now running</th>
                <th>Sent</th>
                <th>Confirmed</th>
              </tr>
            </thead>
            <tbody>
              {detail.targets.map((t) => (
                <TargetRow key={t.device} t={t} device={devices.get(t.device)} bundleId={detail.bundle} />
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="card" aria-labelledby="deploy-settings-title">
        <h2 id="deploy-settings-title">Settings</h2>
        <dl className="facts">
          <dt>Bundle</dt>
          <dd>
            <code>{detail.bundle}</code>
          </dd>
          <dt>Strategy</dt>
          <dd>{strategyText(detail)}</dd>
          <dt>Health window</dt>
          <dd>{detail.health_window_s} s</dd>
          <dt>Device timeout</dt>
          <dd>{detail.timeout_s} s</dd>
          <dt>Latency limit</dt>
          <dd>p99 up to {detail.max_p99_ratio}× what it was (+1 ms)</dd>
          <dt>Reject-rate limit</dt>
          <dd>+{Math.round(detail.max_reject_increase * 1000) / 10} percentage points</dd>
          <dt>Canary passed</dt>
          <dd>{ago(detail.canary_done_at)}</dd>
          <dt>Finished</dt>
          <dd>{ago(detail.finished_at)}</dd>
        </dl>
      </section>

      {confirming && (
        <Modal title={`Roll back deployment #${detail.id}?`} onClose={() => setConfirming(false)} testId="rollback-dialog">
          <p>
            Every device that got {bundleLabel(bundle ?? undefined, detail.bundle)} goes back to the bundle it ran before (
            {counts.running + counts.sent + counts.failed} device{counts.running + counts.sent + counts.failed === 1 ? "" : "s"}). Devices still
            waiting are left as they are. This cannot be undone: deploy again to retry.
          </p>
          <div className="actions">
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" className="danger-fill" onClick={() => void act("rollback")} disabled={busy === "rollback"} data-testid="rollback-confirm">
              {busy === "rollback" ? "Rolling back…" : "Roll back"}
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}

function TargetRow({ t, device, bundleId }: { t: DeploymentTarget; device: DeviceRow | undefined; bundleId: string }) {
  const running = device?.bundle;
  const which = !running ? "—" : running === bundleId ? "the new bundle" : running === t.previous_bundle_id ? "the previous bundle" : running.slice(0, 12);
  return (
    <tr data-testid={`target-${t.device}`} data-state={t.state}>
      <td>
        <strong>{device?.name || t.device}</strong>
        {device?.name && <div className="muted small">{t.device}</div>}
        {device && (
          <div className="small">
            <span className={`status status-${device.state === "online" ? "online" : "offline"}`} data-testid={`target-online-${t.device}`}>
              {device.state}
            </span>
          </div>
        )}
      </td>
      <td>{t.phase === "canary" ? "Canary" : "Rollout"}</td>
      <td>
        <span className={`target-state t-${t.state}`} data-testid={`target-state-${t.device}`}>
          {TARGET_LABEL[t.state] ?? t.state}
        </span>
        {t.state === "pending" && device && device.state !== "online" && <div className="muted small">offline: it gets the bundle when it comes back</div>}
        {t.error && <div className="target-error">{t.error}</div>}
      </td>
      <td className="small" data-testid={`target-bundle-${t.device}`}>
        {which}
      </td>
      <td className="small">{ago(t.sent_at)}</td>
      <td className="small">{ago(t.confirmed_at)}</td>
    </tr>
  );
}
