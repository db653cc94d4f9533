// Deployments of bundles to device groups: the list (live), the "New deployment" form (operate),
// and the compact card the dashboard shows.
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, resultsOf, tenantPath } from "../api/client";
import { useLive } from "../api/live";
import type { Bundle, Device, Page } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Spinner, formatBytes, formatTime, useAsync } from "../components/ui";
import {
  DEFAULT_FORM,
  TARGET_STATES,
  TARGET_LABEL,
  applyProgress,
  canaryPreview,
  formErrorsOf,
  groupLabel,
  groupsOf,
  isActive,
  isProgress,
  phaseLabel,
  progressOf,
  strategyText,
  toRequest,
  viewOf,
  type Deployment,
  type DeploymentForm,
  type DeploymentView,
  type FormErrors,
  type TargetCounts,
} from "./deployments";
import "./deployments.css";

export const bundleLabel = (b: Bundle | undefined, id: string) => (b ? `${b.blueprint} ${b.version}` : `bundle ${id.slice(0, 12)}`);

export function DeploymentStateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={`badge state-${state}`} data-testid={testId} data-state={state}>
      {phaseLabel(state)}
    </span>
  );
}

export function DeploymentBar({ state, counts, mini, testId }: { state: string; counts: TargetCounts; mini?: boolean; testId?: string }) {
  const { percent, text } = progressOf(state, counts);
  return (
    <div
      className={`progress deploy-bar ${state}${mini ? " mini" : ""}`}
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={text}
      aria-label="Devices on the new bundle"
      data-testid={testId}
    >
      <div className="progress-bar" style={{ width: `${percent}%` }} />
    </div>
  );
}

export function CountChips({ counts, testId }: { counts: TargetCounts; testId?: string }) {
  return (
    <div className="count-chips" data-testid={testId}>
      {TARGET_STATES.filter((k) => counts[k] > 0).map((k) => (
        <span key={k} className={`count-chip t-${k}`} data-testid={testId ? `${testId}-${k}` : undefined}>
          {TARGET_LABEL[k].toLowerCase()}: {counts[k]}
        </span>
      ))}
    </div>
  );
}

/** The tenant's bundles by id (for "blueprint version" labels). */
export function useBundles(tenant: string) {
  const { data, error, loading } = useAsync(async () => {
    const res = await api<Bundle[] | Page<Bundle>>(tenantPath(tenant, "/bundles/"), { query: { page_size: 500 } });
    return resultsOf(res);
  }, [tenant]);
  const byId = useMemo(() => new Map((data ?? []).map((b) => [b.bundle_id, b])), [data]);
  return { bundles: data ?? [], byId, error, loading };
}

/** Deployments of the tenant, newest first, following `deployment.progress`. */
export function useDeployments(tenant: string, pageSize = 50) {
  const state = useAsync(async () => {
    const res = await api<Deployment[] | Page<Deployment>>(tenantPath(tenant, "/deployments/"), { query: { page_size: pageSize } });
    return resultsOf(res).map(viewOf);
  }, [tenant, pageSize]);
  const { data, setData, reload } = state;
  useLive(["deployment.progress"], (msg) => {
    if (!isProgress(msg.data)) return;
    const p = msg.data;
    if (!(data ?? []).some((r) => r.id === p.deployment)) return void reload(); // one started elsewhere
    setData((rows) => applyProgress(rows ?? [], p) ?? rows);
  });
  return state;
}

// ------------------------------------------------------------------------------------- the form
function Field({
  label,
  error,
  hint,
  children,
  name,
}: {
  label: string;
  error?: string;
  hint?: React.ReactNode;
  children: React.ReactNode;
  name: string;
}) {
  return (
    <label className={`field${error ? " has-error" : ""}`}>
      <span className="field-label">{label}</span>
      {children}
      {hint && <span className="hint">{hint}</span>}
      {error && (
        <span className="field-error" role="alert" data-testid={`deploy-error-${name}`}>
          {error}
        </span>
      )}
    </label>
  );
}

function NewDeployment({ tenant, onClose }: { tenant: string; onClose: () => void }) {
  const navigate = useNavigate();
  const { bundles, byId, error: bundlesError, loading: bundlesLoading } = useBundles(tenant);
  const devices = useAsync(async () => {
    const res = await api<Device[] | Page<Device>>(tenantPath(tenant, "/devices/"), { query: { page_size: 500 } });
    return resultsOf(res);
  }, [tenant]);
  const groups = useMemo(() => groupsOf(devices.data ?? []), [devices.data]);
  const [form, setForm] = useState<DeploymentForm>(DEFAULT_FORM);
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof DeploymentForm>(k: K, v: DeploymentForm[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setErrors((e) => ({ ...e, [k]: undefined, _form: undefined }));
  };
  const all = devices.data ?? [];
  const inGroup = form.group ? (groups.find((g) => g.group === form.group)?.devices ?? 0) : all.length;
  const canary = canaryPreview(form, inGroup);
  const bundle = byId.get(form.bundle);
  const sorted = [...bundles].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const req = toRequest(form);
    if ("errors" in req) return setErrors(req.errors);
    setBusy(true);
    try {
      const d = await api<Deployment>(tenantPath(tenant, "/deployments/"), { method: "POST", body: req.body });
      navigate(`/t/${tenant}/deployments/${d.id}`);
    } catch (err) {
      setErrors(formErrorsOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="New deployment" onClose={onClose} wide testId="deploy-dialog">
      <form className="deploy-form" onSubmit={submit} noValidate>
        <ErrorNote error={bundlesError || devices.error} />
        <Field label="Bundle" name="bundle" error={errors.bundle}>
          <select value={form.bundle} onChange={(e) => set("bundle", e.target.value)} data-testid="deploy-bundle" disabled={bundlesLoading && !bundles.length}>
            <option value="">{bundlesLoading ? "Loading bundles…" : bundles.length ? "Choose a compiled bundle…" : "No bundles yet: compile a blueprint version first"}</option>
            {sorted.map((b) => (
              <option key={b.bundle_id} value={b.bundle_id}>
                {b.blueprint} {b.version} · {b.bundle_id.slice(0, 10)} · {formatTime(b.created_at)}
              </option>
            ))}
          </select>
        </Field>
        {bundle && (
          <dl className="facts bundle-facts" data-testid="deploy-bundle-facts">
            <dt>Blueprint</dt>
            <dd>
              {bundle.blueprint} <strong>{bundle.version}</strong>
            </dd>
            <dt>Bundle</dt>
            <dd>
              <code>{bundle.bundle_id}</code> ({formatBytes(bundle.size)})
            </dd>
            {bundle.params && Object.keys(bundle.params).length > 0 && (
              <>
                <dt>Parameters</dt>
                <dd>
                  <code>
                    {Object.entries(bundle.params)
                      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                      .join(", ")}
                  </code>
                </dd>
              </>
            )}
            <dt>Compiled</dt>
            <dd>
              {formatTime(bundle.created_at)}
              {bundle.created_by ? ` by ${bundle.created_by}` : ""}
            </dd>
          </dl>
        )}
        <Field label="Device group" name="group" error={errors.group}>
          <select value={form.group} onChange={(e) => set("group", e.target.value)} data-testid="deploy-group">
            <option value="">Every device ({all.length})</option>
            {groups.map((g) => (
              <option key={g.group} value={g.group}>
                {g.group} ({g.devices} device{g.devices === 1 ? "" : "s"}, {g.online} online)
              </option>
            ))}
          </select>
        </Field>

        <fieldset>
          <legend>Strategy</legend>
          <div className="choice" role="radiogroup" aria-label="Strategy">
            <label className="inline">
              <input type="radio" name="strategy" checked={form.strategy === "canary"} onChange={() => set("strategy", "canary")} data-testid="deploy-strategy-canary" />
              Canary first, then the rest
            </label>
            <label className="inline">
              <input type="radio" name="strategy" checked={form.strategy === "all"} onChange={() => set("strategy", "all")} data-testid="deploy-strategy-all" />
              All at once
            </label>
          </div>
          {form.strategy === "canary" && (
            <>
              <div className="choice">
                <label className="inline">
                  <input type="radio" name="canary-by" checked={form.canaryBy === "count"} onChange={() => set("canaryBy", "count")} data-testid="deploy-canary-by-count" />
                  A number of devices
                </label>
                <label className="inline">
                  <input type="radio" name="canary-by" checked={form.canaryBy === "percent"} onChange={() => set("canaryBy", "percent")} data-testid="deploy-canary-by-percent" />
                  A percentage of the group
                </label>
              </div>
              {form.canaryBy === "count" ? (
                <Field label="Canary devices" name="canaryCount" error={errors.canaryCount}>
                  <input type="number" min={1} step={1} value={form.canaryCount} onChange={(e) => set("canaryCount", e.target.value)} data-testid="deploy-canary-count" />
                </Field>
              ) : (
                <Field label="Canary share (%)" name="canaryPercent" error={errors.canaryPercent}>
                  <input type="number" min={1} max={100} step={1} value={form.canaryPercent} onChange={(e) => set("canaryPercent", e.target.value)} data-testid="deploy-canary-percent" />
                </Field>
              )}
              {canary !== null && (
                <p className="hint" data-testid="deploy-canary-preview">
                  {canary} of {inGroup} device{inGroup === 1 ? "" : "s"} get the bundle first (online ones are picked first); the rest follow once
                  {canary === 1 ? " it stays" : " they all stay"} healthy for the health window.
                </p>
              )}
            </>
          )}
          {errors.strategy && <p className="field-error">{errors.strategy}</p>}
        </fieldset>

        <fieldset>
          <legend>Health check</legend>
          <div className="grid2">
            <Field label="Health window (s)" name="healthWindow" error={errors.healthWindow} hint="How long the canary must run healthy before the rest get the bundle.">
              <input type="number" min={0} value={form.healthWindow} onChange={(e) => set("healthWindow", e.target.value)} data-testid="deploy-health-window" />
            </Field>
            <Field label="Device timeout (s)" name="timeout" error={errors.timeout} hint="A device that does not report the new bundle by then fails.">
              <input type="number" min={1} value={form.timeout} onChange={(e) => set("timeout", e.target.value)} data-testid="deploy-timeout" />
            </Field>
            <Field label="Latency limit (× p99 before)" name="maxP99Ratio" error={errors.maxP99Ratio} hint="Fails when a device's p99 evaluation time grows beyond this multiple (+1 ms).">
              <input type="number" min={1} step="any" value={form.maxP99Ratio} onChange={(e) => set("maxP99Ratio", e.target.value)} data-testid="deploy-max-p99" />
            </Field>
            <Field label="Reject-rate limit (+ points)" name="maxRejectIncrease" error={errors.maxRejectIncrease} hint="Fails when the share of rejected events grows by more than this many percentage points.">
              <input type="number" min={0} max={100} step="any" value={form.maxRejectIncrease} onChange={(e) => set("maxRejectIncrease", e.target.value)} data-testid="deploy-max-rejects" />
            </Field>
          </div>
          <p className="hint">A device failing the check rolls the whole deployment back to the previous bundle.</p>
        </fieldset>
        {errors._form && (
          <p className="field-error" role="alert" data-testid="deploy-error-form">
            {errors._form}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy} data-testid="deploy-submit">
            {busy ? "Starting…" : "Start deployment"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

// ------------------------------------------------------------------------------------- the list
export function DeploymentsPage() {
  const { tenant, can } = useTenant();
  const [creating, setCreating] = useState(false);
  const { data, error, loading } = useDeployments(tenant);
  const { byId } = useBundles(tenant);
  const rows = data ?? [];
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Deployments</h1>
          <p className="muted">Bundles rolled out to device groups: canary first, health-checked, rolled back automatically when a device fails.</p>
        </div>
        <span className="spacer" />
        {can("operate") && (
          <button type="button" className="primary" onClick={() => setCreating(true)} data-testid="deployment-new">
            New deployment
          </button>
        )}
      </header>
      {creating && <NewDeployment tenant={tenant} onClose={() => setCreating(false)} />}
      <ErrorNote error={error} />
      <section className="card">
        {loading && !data ? (
          <Spinner />
        ) : rows.length === 0 ? (
          <p className="muted" data-testid="deployments-empty">
            No deployments yet.{can("operate") ? " Start one with “New deployment”." : ""}
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="deployments-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Bundle</th>
                  <th>Group</th>
                  <th>Strategy</th>
                  <th>State</th>
                  <th>Progress</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <DeploymentRow key={d.id} d={d} tenant={tenant} bundle={byId.get(d.bundle)} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function DeploymentRow({ d, tenant, bundle }: { d: DeploymentView; tenant: string; bundle: Bundle | undefined }) {
  const { text } = progressOf(d.state, d.counts);
  return (
    <tr data-testid={`deployment-row-${d.id}`} data-state={d.state}>
      <td>
        <Link to={`/t/${tenant}/deployments/${d.id}`} data-testid={`deployment-link-${d.id}`}>
          #{d.id}
        </Link>
      </td>
      <td>
        <strong>{bundleLabel(bundle, d.bundle)}</strong>
        <div className="muted small">
          <code>{d.bundle.slice(0, 12)}</code>
        </div>
      </td>
      <td>{groupLabel(d.group)}</td>
      <td className="small">{strategyText(d)}</td>
      <td>
        <DeploymentStateBadge state={d.state} />
      </td>
      <td>
        <DeploymentBar state={d.state} counts={d.counts} mini />
        <div className="muted small">{text}</div>
      </td>
      <td className="small">
        {formatTime(d.created_at)}
        {d.created_by && <div className="muted">by {d.created_by}</div>}
      </td>
    </tr>
  );
}

// ------------------------------------------------------------------------------------- the dashboard
/** The deployments under way (or else the latest one), compactly, each linking to its page. */
export function DashboardDeployments() {
  const { tenant } = useTenant();
  const { data, error } = useDeployments(tenant, 10);
  const { byId } = useBundles(tenant);
  const rows = data ?? [];
  const active = rows.filter((d) => isActive(d.state));
  const shown = active.length ? active : rows.slice(0, 1);
  if (!error && shown.length === 0) return null; // nothing deployed yet: the nav leads to deployments
  return (
    <section className="card dash-deploy" aria-labelledby="dash-deploy-title" data-testid="dashboard-deployments">
      <header className="card-head">
        <h2 id="dash-deploy-title">{active.length ? "Deployments under way" : "Latest deployment"}</h2>
        <span className="spacer" />
        <Link to={`/t/${tenant}/deployments`} data-testid="dashboard-deployments-all">
          All deployments
        </Link>
      </header>
      <ErrorNote error={error} />
      {shown.map((d) => {
        const { text } = progressOf(d.state, d.counts);
        return (
          <div key={d.id} className="dash-deploy-row" data-testid={`dashboard-deployment-${d.id}`} data-state={d.state}>
            <div>
              <Link to={`/t/${tenant}/deployments/${d.id}`} data-testid={`dashboard-deployment-link-${d.id}`}>
                #{d.id} {bundleLabel(byId.get(d.bundle), d.bundle)} → {groupLabel(d.group)}
              </Link>{" "}
              <DeploymentStateBadge state={d.state} testId={`dashboard-deployment-state-${d.id}`} />
              {d.state === "rolled_back" && d.reason && <div className="muted small">{d.reason}</div>}
            </div>
            <DeploymentBar state={d.state} counts={d.counts} testId={`dashboard-deployment-bar-${d.id}`} />
            <span className="small" data-testid={`dashboard-deployment-text-${d.id}`}>
              {text}
            </span>
          </div>
        );
      })}
    </section>
  );
}
