// The shared catalog: published blueprints of every workspace, searched and filtered (the
// address keeps the filters), a page at a time; each opens on its detail page or installs here.
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { CatalogEntry, Page } from "../api/types";
import { useSession, useTenant } from "../auth/session";
import { ErrorNote, Pager, Spinner, useAsync } from "../components/ui";
import { catalogQuery, filtersFromSearch, searchFromFilters, type CatalogFilters } from "./catalog";
import { InstallDialog } from "./InstallDialog";
import "./catalog.css";

const TYPING_MS = 300;

export function CatalogPage() {
  const { me } = useSession();
  const { tenant } = useTenant();
  const [search, setSearch] = useSearchParams();
  const filters = filtersFromSearch(search);
  const [text, setText] = useState(filters.q);
  const [tagText, setTagText] = useState(filters.tag);
  const [categories, setCategories] = useState<string[]>([]);
  const [installing, setInstalling] = useState<CatalogEntry | null>(null);
  const go = (change: Partial<CatalogFilters>) =>
    setSearch((prev) => searchFromFilters({ ...filtersFromSearch(prev), page: 1, ...change }));

  // typing in the search box waits for a pause before it asks the studio
  useEffect(() => {
    if (text === filters.q && tagText === filters.tag) return;
    const t = setTimeout(() => go({ q: text, tag: tagText }), TYPING_MS);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text, tagText]);
  // back/forward (or a tag clicked) changes the address: the boxes follow
  useEffect(() => setText(filters.q), [filters.q]);
  useEffect(() => setTagText(filters.tag), [filters.tag]);

  const { data, error, loading } = useAsync(
    () => api<Page<CatalogEntry>>("/catalog/", { query: catalogQuery(filters) }),
    [filters.q, filters.category, filters.tag, filters.page],
  );
  useEffect(() => {
    const seen = (data?.results ?? []).map((e) => e.category).filter(Boolean);
    if (seen.some((c) => !categories.includes(c))) setCategories((cs) => [...new Set([...cs, ...seen])].sort());
  }, [data, categories]);

  const canInstall = !!me?.memberships.some((m) => m.capabilities.includes("edit"));
  const filtered = !!(filters.q || filters.category || filters.tag);
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <h1>Catalog</h1>
          <p className="muted">Certified blueprints published by every workspace, ready to install into yours.</p>
        </div>
        <span className="spacer" />
        <span className="muted" data-testid="catalog-count">
          {data ? `${data.count} published blueprint${data.count === 1 ? "" : "s"}${filtered ? " match" : ""}` : ""}
        </span>
      </header>
      <div className="filters" role="search">
        <input
          type="search"
          placeholder="Search titles, descriptions, READMEs…"
          aria-label="Search the catalog"
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="catalog-search"
        />
        <select aria-label="Category" value={filters.category} onChange={(e) => go({ category: e.target.value })} data-testid="catalog-category">
          <option value="">All categories</option>
          {[...new Set([...categories, ...(filters.category ? [filters.category] : [])])].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <input placeholder="Tag" aria-label="Tag" value={tagText} onChange={(e) => setTagText(e.target.value)} data-testid="catalog-tag" />
        {filtered && (
          <button type="button" className="link" onClick={() => setSearch({})} data-testid="catalog-clear">
            Clear filters
          </button>
        )}
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Spinner />
      ) : (
        <ul className="cards" aria-busy={loading}>
          {data?.results.map((e) => (
            <li key={String(e.id)} className="card catalog-card" data-testid={`catalog-${e.id}`}>
              <h2>
                <Link to={`/t/${tenant}/catalog/${e.id}`} data-testid={`catalog-open-${e.id}`}>
                  {e.title}
                </Link>
              </h2>
              <p className="muted small">
                by {e.tenant} · {e.slug} {e.version}{" "}
                {e.certificate?.verdict === "certified" && (
                  <span className="badge state-certified" title="Certified: every step of the pipeline passed">
                    certified
                  </span>
                )}
              </p>
              <p className="catalog-description">{e.description}</p>
              <div className="tags">
                {e.category && (
                  <button type="button" className="tag cat" onClick={() => go({ category: e.category })} title={`Only ${e.category}`}>
                    {e.category}
                  </button>
                )}
                {e.tags?.map((t) => (
                  <button type="button" key={t} className="tag" onClick={() => go({ tag: t })} title={`Only tagged ${t}`}>
                    {t}
                  </button>
                ))}
              </div>
              <div className="actions">
                <Link className="button" to={`/t/${tenant}/catalog/${e.id}`}>
                  Details
                </Link>
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
      {data && data.results.length === 0 && (
        <p className="muted" data-testid="catalog-empty">
          {filtered ? "Nothing in the catalog matches." : "Nothing has been published yet."}
        </p>
      )}
      {data && (data.next || data.previous) && (
        <Pager
          count={data.count}
          next={data.next}
          previous={data.previous}
          onGo={(url) => go({ page: url === data.next ? filters.page + 1 : Math.max(1, filters.page - 1) })}
        />
      )}
      {installing && <InstallDialog entry={installing} onClose={() => setInstalling(null)} />}
    </div>
  );
}
