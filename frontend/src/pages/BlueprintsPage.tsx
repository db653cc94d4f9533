import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, errorMessage, tenantPath } from "../api/client";
import type { Blueprint, Page } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Pager, Spinner, StateBadge, formatTime, useAsync } from "../components/ui";

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function NewBlueprint({ tenant }: { tenant: string }) {
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ slug: "", title: "", description: "", category: "" });
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button type="button" className="primary" onClick={() => setOpen(true)} data-testid="blueprint-new">
        New blueprint
      </button>
      {open && (
        <Modal title="New blueprint" onClose={() => setOpen(false)}>
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              if (!SLUG.test(form.slug)) return setError("The slug is lower-case words joined by dashes, e.g. cold-room-3.");
              try {
                const bp = await api<Blueprint>(tenantPath(tenant, "/blueprints/"), {
                  method: "POST",
                  body: {
                    ...form,
                    graph: { format: "aiot.graph/v1", name: form.title, params: { type: "object", properties: {} }, nodes: [], edges: [], ui: {} },
                  },
                });
                navigate(`/t/${tenant}/blueprints/${bp.slug}`);
              } catch (err) {
                setError(errorMessage(err));
              }
            }}
          >
            <label className="field">
              <span className="field-label">Title</span>
              <input
                value={form.title}
                required
                onChange={(e) => {
                  const title = e.target.value;
                  const auto = form.slug === slugify(form.title);
                  setForm({ ...form, title, slug: auto ? slugify(title) : form.slug });
                }}
                data-testid="blueprint-new-title"
              />
            </label>
            <label className="field">
              <span className="field-label">Slug</span>
              <input value={form.slug} required onChange={(e) => setForm({ ...form, slug: e.target.value })} data-testid="blueprint-new-slug" />
            </label>
            <label className="field">
              <span className="field-label">Category</span>
              <input value={form.category} onChange={(e) => setForm({ ...form, category: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">Description</span>
              <textarea rows={3} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
            </label>
            {error && <p className="field-error">{error}</p>}
            <div className="actions">
              <button type="submit" className="primary" data-testid="blueprint-new-create">
                Create
              </button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}

export function slugify(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
}

export function BlueprintsPage() {
  const { tenant, can } = useTenant();
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [url, setUrl] = useState<string | null>(null);
  const { data, error, loading } = useAsync(
    () => api<Page<Blueprint>>(url ?? tenantPath(tenant, "/blueprints/"), url ? {} : { query: { q, category } }),
    [tenant, q, category, url],
  );
  return (
    <div className="page">
      <header className="page-head">
        <h1>Blueprints</h1>
        <span className="spacer" />
        {can("edit") && <NewBlueprint tenant={tenant} />}
      </header>
      <div className="filters">
        <input
          type="search"
          placeholder="Search blueprints…"
          aria-label="Search blueprints"
          value={q}
          onChange={(e) => {
            setUrl(null);
            setQ(e.target.value);
          }}
          data-testid="blueprint-search"
        />
        <input
          placeholder="Category"
          aria-label="Category"
          value={category}
          onChange={(e) => {
            setUrl(null);
            setCategory(e.target.value);
          }}
        />
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Spinner />
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>Blueprint</th>
                  <th>Category</th>
                  <th>Latest</th>
                  <th className="num">Versions</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {data?.results.map((b) => (
                  <tr key={b.slug} data-testid={`blueprint-${b.slug}`}>
                    <td>
                      <Link to={`/t/${tenant}/blueprints/${b.slug}`}>{b.title}</Link>
                      <div className="muted small">{b.description}</div>
                      <div className="tags">
                        {b.tags?.map((t) => (
                          <span key={t} className="tag">
                            {t}
                          </span>
                        ))}
                      </div>
                    </td>
                    <td>{b.category || "—"}</td>
                    <td data-testid={`blueprint-latest-${b.slug}`}>
                      {b.latest_version ? (
                        <>
                          {b.latest_version.version} <StateBadge state={b.latest_version.state} />
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className="num">{b.versions_count}</td>
                    <td>{formatTime(b.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data && data.results.length === 0 && <p className="muted">No blueprints match.</p>}
          {data && <Pager count={data.count} next={data.next} previous={data.previous} onGo={setUrl} />}
        </>
      )}
    </div>
  );
}
