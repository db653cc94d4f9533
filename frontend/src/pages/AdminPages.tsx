// Tenant administration: members and roles, API tokens, the audit log.
import { useState } from "react";
import { NavLink, Outlet } from "react-router-dom";
import { api, resultsOf, tenantPath } from "../api/client";
import { ROLES, type ApiToken, type AuditEntry, type Member, type Page, type Role } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Pager, Spinner, formatTime, useAsync } from "../components/ui";

export function AdminLayout() {
  const { tenant, can } = useTenant();
  if (!can("admin")) {
    return (
      <div className="page">
        <h1>Administration</h1>
        <p>Your role in this workspace does not include administration.</p>
      </div>
    );
  }
  return (
    <div className="page">
      <header className="page-head">
        <h1>Administration</h1>
      </header>
      <nav className="subnav" aria-label="Administration">
        <NavLink to={`/t/${tenant}/admin/members`}>Members</NavLink>
        <NavLink to={`/t/${tenant}/admin/tokens`}>API tokens</NavLink>
        <NavLink to={`/t/${tenant}/admin/audit`}>Audit log</NavLink>
      </nav>
      <Outlet />
    </div>
  );
}

function RoleSelect({ value, onChange, testId, label }: { value: Role; onChange: (r: Role) => void; testId?: string; label: string }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Role)} data-testid={testId}>
      {ROLES.map((r) => (
        <option key={r}>{r}</option>
      ))}
    </select>
  );
}

export function MembersPage() {
  const { tenant } = useTenant();
  const { data, setData, error, loading, reload } = useAsync(
    () => api<Member[] | Page<Member>>(tenantPath(tenant, "/members/")).then(resultsOf),
    [tenant],
  );
  const [form, setForm] = useState<{ username: string; role: Role; password: string }>({ username: "", role: "viewer", password: "" });
  const [actionError, setActionError] = useState<unknown>(null);
  const setRole = async (m: Member, role: Role) => {
    setActionError(null);
    try {
      const updated = await api<Member>(tenantPath(tenant, `/members/${m.id}/`), { method: "PATCH", body: { role } });
      setData((rows) => (rows ?? []).map((r) => (r.id === m.id ? { ...r, ...updated } : r)));
    } catch (err) {
      setActionError(err);
    }
  };
  const remove = async (m: Member) => {
    if (!window.confirm(`Remove ${m.username} from this workspace?`)) return;
    try {
      await api(tenantPath(tenant, `/members/${m.id}/`), { method: "DELETE" });
      setData((rows) => (rows ?? []).filter((r) => r.id !== m.id));
    } catch (err) {
      setActionError(err);
    }
  };
  return (
    <section className="card">
      <h2>Members</h2>
      <ErrorNote error={error || actionError} onDismiss={actionError ? () => setActionError(null) : undefined} />
      {loading && !data ? (
        <Spinner />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="members">
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>Since</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data?.map((m) => (
                <tr key={m.id} data-testid={`member-${m.username}`}>
                  <td>{m.username}</td>
                  <td>
                    <RoleSelect label={`Role of ${m.username}`} value={m.role} onChange={(r) => void setRole(m, r)} testId={`member-role-${m.username}`} />
                  </td>
                  <td>{formatTime(m.created_at)}</td>
                  <td>
                    <button type="button" className="link danger" onClick={() => void remove(m)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Add a member</h3>
      <form
        className="row wrap"
        onSubmit={async (e) => {
          e.preventDefault();
          setActionError(null);
          try {
            await api(tenantPath(tenant, "/members/"), {
              method: "POST",
              body: { username: form.username, role: form.role, ...(form.password ? { password: form.password } : {}) },
            });
            setForm({ username: "", role: "viewer", password: "" });
            void reload();
          } catch (err) {
            setActionError(err);
          }
        }}
      >
        <input aria-label="Username" placeholder="username" required value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} data-testid="member-new-username" />
        <RoleSelect label="Role" value={form.role} onChange={(role) => setForm({ ...form, role })} testId="member-new-role" />
        <input
          aria-label="Password (for a new user)"
          placeholder="password (new user only)"
          type="password"
          autoComplete="new-password"
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <button type="submit" className="primary" data-testid="member-add">
          Add
        </button>
      </form>
    </section>
  );
}

export function TokensPage() {
  const { tenant } = useTenant();
  const { data, setData, error, loading } = useAsync(() => api<ApiToken[] | Page<ApiToken>>(tenantPath(tenant, "/tokens/")).then(resultsOf), [tenant]);
  const [form, setForm] = useState<{ name: string; role: Role; days: string }>({ name: "", role: "viewer", days: "90" });
  const [secret, setSecret] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  return (
    <section className="card">
      <h2>API tokens</h2>
      <ErrorNote error={error || actionError} />
      {loading && !data ? (
        <Spinner />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="tokens">
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Role</th>
                <th>Expires</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data?.map((t) => (
                <tr key={t.id} className={t.revoked_at ? "revoked" : ""} data-testid={`token-${t.id}`}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{t.role}</td>
                  <td>{formatTime(t.expires_at)}</td>
                  <td>{formatTime(t.last_used_at)}</td>
                  <td>
                    {t.revoked_at ? (
                      <span className="muted">revoked {formatTime(t.revoked_at)}</span>
                    ) : (
                      <button
                        type="button"
                        className="link danger"
                        onClick={async () => {
                          if (!window.confirm(`Revoke the token ${t.name}? Scripts using it stop working.`)) return;
                          try {
                            await api(tenantPath(tenant, `/tokens/${t.id}/`), { method: "DELETE" });
                            setData((rows) => (rows ?? []).map((r) => (r.id === t.id ? { ...r, revoked_at: new Date().toISOString() } : r)));
                          } catch (err) {
                            setActionError(err);
                          }
                        }}
                        data-testid={`token-revoke-${t.id}`}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>New token</h3>
      <form
        className="row wrap"
        onSubmit={async (e) => {
          e.preventDefault();
          setActionError(null);
          try {
            const days = form.days.trim() ? Number(form.days) : undefined;
            const created = await api<ApiToken>(tenantPath(tenant, "/tokens/"), {
              method: "POST",
              body: { name: form.name, role: form.role, ...(days ? { expires_in_days: days } : {}) },
            });
            setSecret(created.secret ?? null);
            const { secret: _omit, ...row } = created;
            void _omit;
            setData((rows) => [row, ...(rows ?? [])]);
            setForm({ name: "", role: "viewer", days: "90" });
          } catch (err) {
            setActionError(err);
          }
        }}
      >
        <input aria-label="Token name" placeholder="name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} data-testid="token-new-name" />
        <RoleSelect label="Role" value={form.role} onChange={(role) => setForm({ ...form, role })} testId="token-new-role" />
        <label className="inline">
          expires in
          <input aria-label="Expires in days" className="narrow" inputMode="numeric" value={form.days} onChange={(e) => setForm({ ...form, days: e.target.value })} />
          days
        </label>
        <button type="submit" className="primary" data-testid="token-create">
          Create token
        </button>
      </form>
      {secret && (
        <Modal title="Your new token" onClose={() => setSecret(null)} testId="token-secret-dialog">
          <p>Copy it now: it is shown once and cannot be read again.</p>
          <pre className="secret" data-testid="token-secret">
            {secret}
          </pre>
          <div className="actions">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
              Copy
            </button>
            <button type="button" className="primary" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function AuditPage() {
  const { tenant } = useTenant();
  const [filters, setFilters] = useState({ actor: "", action: "", since: "", until: "" });
  const [applied, setApplied] = useState(filters);
  const [url, setUrl] = useState<string | null>(null);
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const { data, error, loading } = useAsync(
    () =>
      api<Page<AuditEntry>>(
        url ?? tenantPath(tenant, "/audit/"),
        url ? {} : { query: { actor: applied.actor, action: applied.action, since: toIso(applied.since), until: toIso(applied.until) } },
      ),
    [tenant, applied, url],
  );
  return (
    <section className="card">
      <h2>Audit log</h2>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setUrl(null);
          setApplied(filters);
        }}
      >
        <input aria-label="Actor" placeholder="actor" value={filters.actor} onChange={(e) => setFilters({ ...filters, actor: e.target.value })} data-testid="audit-actor" />
        <input aria-label="Action" placeholder="action" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.target.value })} data-testid="audit-action" />
        <label className="inline">
          since <input type="datetime-local" value={filters.since} onChange={(e) => setFilters({ ...filters, since: e.target.value })} data-testid="audit-since" />
        </label>
        <label className="inline">
          until <input type="datetime-local" value={filters.until} onChange={(e) => setFilters({ ...filters, until: e.target.value })} data-testid="audit-until" />
        </label>
        <button type="submit" data-testid="audit-apply">
          Filter
        </button>
      </form>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Spinner />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="audit">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>What</th>
                  <th>Object</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data?.results.map((a) => (
                  <tr key={a.id} data-testid={`audit-${a.id}`}>
                    <td>{formatTime(a.at)}</td>
                    <td>{a.actor ?? "system"}</td>
                    <td>
                      <code>{a.action}</code>
                    </td>
                    <td>
                      {a.object_type} <span className="muted">{a.object_id}</span>
                    </td>
                    <td>
                      <button type="button" className="link" onClick={() => setOpen(a)}>
                        Details
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data && data.results.length === 0 && <p className="muted">No entries.</p>}
          {data && <Pager count={data.count} next={data.next} previous={data.previous} onGo={setUrl} />}
        </>
      )}
      {open && (
        <Modal title={`${open.action} · ${formatTime(open.at)}`} onClose={() => setOpen(null)} wide>
          <div className="two-col">
            <div>
              <h3>Before</h3>
              <pre>{JSON.stringify(open.before, null, 2) ?? "—"}</pre>
            </div>
            <div>
              <h3>After</h3>
              <pre>{JSON.stringify(open.after, null, 2) ?? "—"}</pre>
            </div>
          </div>
        </Modal>
      )}
    </section>
  );
}

