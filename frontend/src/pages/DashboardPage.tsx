// Devices with live status, and the live alert feed.
import { useState } from "react";
import { api, errorMessage, resultsOf, tenantPath } from "../api/client";
import { useLive } from "../api/live";
import type { Alert, Device, Page } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Spinner, formatTime, formatValue, useAsync } from "../components/ui";
import { DashboardDeployments } from "./DeploymentsPage";
import { blueprintLabel, eventsPerSecond, mergeDevice, type DeviceRow } from "./devices";

function isOnline(state: string | undefined) {
  return state === "online";
}

function RegisterDevice({ tenant, onDone }: { tenant: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ device_id: "", name: "", group: "" });
  const [error, setError] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const close = () => {
    setOpen(false);
    setToken(null);
    setError(null);
    setForm({ device_id: "", name: "", group: "" });
  };
  return (
    <>
      <button type="button" onClick={() => setOpen(true)} data-testid="device-register">
        Register a device
      </button>
      {open && (
        <Modal title="Register a device" onClose={close}>
          {token ? (
            <>
              <p>The device's token. It is shown once: copy it into the gateway's configuration now.</p>
              <pre className="secret" data-testid="device-token">
                {token}
              </pre>
              <div className="actions">
                <button type="button" onClick={() => void navigator.clipboard?.writeText(token)}>
                  Copy
                </button>
                <button type="button" className="primary" onClick={close}>
                  Done
                </button>
              </div>
            </>
          ) : (
            <form
              onSubmit={async (e) => {
                e.preventDefault();
                try {
                  const res = await api<Device & { token: string }>(tenantPath(tenant, "/devices/"), { method: "POST", body: form });
                  setToken(res.token);
                  onDone();
                } catch (err) {
                  setError(errorMessage(err));
                }
              }}
            >
              {(["device_id", "name", "group"] as const).map((k) => (
                <label key={k} className="field">
                  <span className="field-label">{k === "device_id" ? "Device id" : k[0].toUpperCase() + k.slice(1)}</span>
                  <input value={form[k]} required={k === "device_id"} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
                </label>
              ))}
              {error && <p className="field-error">{error}</p>}
              <div className="actions">
                <button type="submit" className="primary">
                  Register
                </button>
              </div>
            </form>
          )}
        </Modal>
      )}
    </>
  );
}

function Devices() {
  const { tenant, can } = useTenant();
  const { data, setData, error, loading, reload } = useAsync(async () => {
    const res = await api<Device[] | Page<Device>>(tenantPath(tenant, "/devices/"), { query: { page_size: 500 } });
    return resultsOf(res).map((d) => ({ ...d, eventsPerSecond: eventsPerSecond(null, d.last_status) }) as DeviceRow);
  }, [tenant]);
  // device.status carries a list of devices (the bridge sends one message per flush).
  useLive(["device.status"], (msg) =>
    setData((rows) =>
      (Array.isArray(msg.data) ? msg.data : [msg.data]).reduce((acc, d) => mergeDevice(acc, d), rows ?? []),
    ),
  );
  const rows = data ?? [];
  const online = rows.filter((d) => isOnline(d.state)).length;
  return (
    <section className="card" aria-labelledby="devices-title">
      <header className="card-head">
        <h2 id="devices-title">Devices</h2>
        <span className="muted" data-testid="devices-online">
          {online} of {rows.length} online
        </span>
        <span className="spacer" />
        {can("operate") && <RegisterDevice tenant={tenant} onDone={reload} />}
      </header>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Spinner />
      ) : rows.length === 0 ? (
        <p className="muted">No devices yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="devices-table">
            <thead>
              <tr>
                <th>Device</th>
                <th>Status</th>
                <th>Bundle</th>
                <th className="num">Events/s</th>
                <th className="num">p99 (ms)</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.device_id} data-testid={`device-${d.device_id}`} data-state={d.state}>
                  <td>
                    <strong>{d.name || d.device_id}</strong>
                    {d.name && <div className="muted small">{d.device_id}</div>}
                    {d.group && <div className="muted small">{d.group}</div>}
                  </td>
                  <td>
                    <span className={`status status-${isOnline(d.state) ? "online" : "offline"}`} data-testid={`device-state-${d.device_id}`}>
                      {d.state || "unknown"}
                    </span>
                  </td>
                  <td data-testid={`device-bundle-${d.device_id}`}>
                    <code title={d.bundle ?? ""}>{d.bundle ? d.bundle.slice(0, 12) : "—"}</code>
                    {blueprintLabel(d.last_status?.blueprint) && <div className="muted small">{blueprintLabel(d.last_status?.blueprint)}</div>}
                  </td>
                  <td className="num" data-testid={`device-rate-${d.device_id}`}>
                    {d.eventsPerSecond === null ? "—" : d.eventsPerSecond.toFixed(1)}
                  </td>
                  <td className="num" data-testid={`device-p99-${d.device_id}`}>
                    {typeof d.last_status?.eval_ms?.p99 === "number" ? d.last_status.eval_ms.p99.toFixed(2) : "—"}
                  </td>
                  <td>{formatTime(d.last_seen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Alerts() {
  const { tenant, can } = useTenant();
  const [onlyOpen, setOnlyOpen] = useState(false);
  const [ackError, setAckError] = useState<unknown>(null);
  const { data, setData, error, loading } = useAsync(
    () => api<Page<Alert> | Alert[]>(tenantPath(tenant, "/alerts/"), { query: { acknowledged: onlyOpen ? "false" : undefined } }).then(resultsOf),
    [tenant, onlyOpen],
  );
  useLive(["alert"], (msg) => {
    const a = msg.data as Alert;
    if (!a || a.id === undefined) return;
    setData((rows) => [a, ...(rows ?? []).filter((r) => r.id !== a.id)].slice(0, 200));
  });
  const acknowledge = async (id: number) => {
    setAckError(null);
    try {
      const updated = await api<Alert>(tenantPath(tenant, `/alerts/${id}/acknowledge`), { method: "POST" });
      setData((rows) => (rows ?? []).map((r) => (r.id === id ? updated : r)).filter((r) => !onlyOpen || !r.acknowledged_at));
    } catch (err) {
      setAckError(err);
    }
  };
  const rows = data ?? [];
  return (
    <section className="card" aria-labelledby="alerts-title">
      <header className="card-head">
        <h2 id="alerts-title">Alerts</h2>
        <span className="spacer" />
        <label className="inline">
          <input type="checkbox" checked={onlyOpen} onChange={(e) => setOnlyOpen(e.target.checked)} data-testid="alerts-open-only" />
          Unacknowledged only
        </label>
      </header>
      <ErrorNote error={error || ackError} />
      {loading && !data ? (
        <Spinner />
      ) : rows.length === 0 ? (
        <p className="muted">No alerts.</p>
      ) : (
        <ul className="alert-feed" data-testid="alert-feed">
          {rows.map((a) => (
            <li key={a.id} className={`alert-row sev-${a.severity}${a.acknowledged_at ? " acked" : ""}`} data-testid={`alert-${a.id}`}>
              <span className={`sev sev-${a.severity}`}>{a.severity}</span>
              <div className="alert-main">
                <strong>{a.message || a.name}</strong>
                <div className="muted small">
                  {a.name} · {a.device} · key {a.key} · {formatTime(a.ts)}
                </div>
                {a.values && Object.keys(a.values).length > 0 && (
                  <div className="small values">
                    {Object.entries(a.values)
                      .map(([k, v]) => `${k}=${formatValue(v)}`)
                      .join("  ")}
                  </div>
                )}
              </div>
              {a.acknowledged_at ? (
                <span className="muted small">acknowledged by {a.acknowledged_by ?? "someone"}</span>
              ) : (
                can("operate") && (
                  <button type="button" onClick={() => void acknowledge(a.id)} data-testid={`ack-${a.id}`}>
                    Acknowledge
                  </button>
                )
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function DashboardPage() {
  return (
    <div className="page dashboard">
      <DashboardDeployments />
      <Devices />
      <Alerts />
    </div>
  );
}
