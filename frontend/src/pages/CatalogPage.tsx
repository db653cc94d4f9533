// The shared catalog of published blueprints, and installing one into a tenant.
import { useMemo, useState } from "react";
import { useNavigate } from "react-router-dom";
import { api, errorMessage } from "../api/client";
import type { CatalogEntry } from "../api/types";
import { useSession } from "../auth/session";
import { ErrorNote, Modal, Spinner, useAsync } from "../components/ui";
import { SchemaForm } from "../forms/SchemaForm";
import { checkValues, defaultsOf, describeSchema } from "../forms/schemaForm";
import type { JsonSchema } from "../graph/types";

function InstallDialog({ entry, onClose }: { entry: CatalogEntry; onClose: () => void }) {
  const { me } = useSession();
  const navigate = useNavigate();
  const targets = me?.memberships.filter((m) => m.capabilities.includes("edit")) ?? [];
  const schema = (entry.params_schema ?? { type: "object", properties: {} }) as JsonSchema;
  const [tenant, setTenant] = useState(targets[0]?.tenant.slug ?? "");
  const [slug, setSlug] = useState(entry.slug);
  const [params, setParams] = useState<Record<string, unknown>>(() => defaultsOf(schema));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const problems = checkValues(describeSchema(schema), params);
  return (
    <Modal title={`Install ${entry.title}`} onClose={onClose} testId="install-dialog" wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (Object.keys(problems).length) return setError("Some parameters need a valid value.");
          setBusy(true);
          setError(null);
          try {
            const created = await api<{ slug?: string }>(`/catalog/${encodeURIComponent(String(entry.id))}/install`, {
              method: "POST",
              body: { tenant, slug, params },
            });
            navigate(`/t/${tenant}/blueprints/${created?.slug ?? slug}`);
          } catch (err) {
            setError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="row">
          <label className="field grow">
            <span className="field-label">Into workspace</span>
            <select value={tenant} onChange={(e) => setTenant(e.target.value)} data-testid="install-tenant">
              {targets.map((m) => (
                <option key={m.tenant.slug} value={m.tenant.slug}>
                  {m.tenant.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field grow">
            <span className="field-label">Slug</span>
            <input value={slug} required onChange={(e) => setSlug(e.target.value)} data-testid="install-slug" />
          </label>
        </div>
        <h3>Parameters</h3>
        <SchemaForm
          schema={schema}
          values={params}
          onChange={(name, value) => {
            const next = { ...params };
            if (value === undefined) delete next[name];
            else next[name] = value;
            setParams(next);
          }}
          testIdPrefix="install-param"
        />
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !tenant} data-testid="install-submit">
            {busy ? "Installing…" : "Install"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function CatalogPage() {
  const { me } = useSession();
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [tag, setTag] = useState("");
  const [installing, setInstalling] = useState<CatalogEntry | null>(null);
  const [reading, setReading] = useState<CatalogEntry | null>(null);
  const { data, error, loading } = useAsync(
    () => api<{ count: number; results: CatalogEntry[] }>("/catalog/", { query: { q, category, tag } }),
    [q, category, tag],
  );
  const canInstall = !!me?.memberships.some((m) => m.capabilities.includes("edit"));
  const categories = useMemo(() => [...new Set((data?.results ?? []).map((e) => e.category).filter(Boolean))].sort(), [data]);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Catalog</h1>
        <span className="muted">{data ? `${data.count} published blueprints` : ""}</span>
      </header>
      <div className="filters">
        <input type="search" placeholder="Search the catalog…" aria-label="Search the catalog" value={q} onChange={(e) => setQ(e.target.value)} data-testid="catalog-search" />
        <select aria-label="Category" value={category} onChange={(e) => setCategory(e.target.value)} data-testid="catalog-category">
          <option value="">All categories</option>
          {[...new Set([...categories, ...(category ? [category] : [])])].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <input placeholder="Tag" aria-label="Tag" value={tag} onChange={(e) => setTag(e.target.value)} data-testid="catalog-tag" />
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Spinner />
      ) : (
        <ul className="cards">
          {data?.results.map((e) => (
            <li key={String(e.id)} className="card catalog-card" data-testid={`catalog-${e.id}`}>
              <h2>{e.title}</h2>
              <p className="muted small">
                {e.tenant} / {e.slug} · v{e.version} {e.certificate ? <span className="badge state-certified">certified</span> : null}
              </p>
              <p>{e.description}</p>
              <div className="tags">
                {e.category && (
                  <button type="button" className="tag cat" onClick={() => setCategory(e.category)}>
                    {e.category}
                  </button>
                )}
                {e.tags?.map((t) => (
                  <button type="button" key={t} className="tag" onClick={() => setTag(t)}>
                    {t}
                  </button>
                ))}
              </div>
              <div className="actions">
                <button type="button" onClick={() => setReading(e)}>
                  README
                </button>
                {canInstall && (
                  <button type="button" className="primary" onClick={() => setInstalling(e)} data-testid={`install-${e.id}`}>
                    Install
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      {data && data.results.length === 0 && <p className="muted">Nothing in the catalog matches.</p>}
      {installing && <InstallDialog entry={installing} onClose={() => setInstalling(null)} />}
      {reading && (
        <Modal title={reading.title} onClose={() => setReading(null)} wide>
          <pre className="readme-view">{reading.readme || "No README."}</pre>
        </Modal>
      )}
    </div>
  );
}
