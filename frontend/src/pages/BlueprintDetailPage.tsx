import { useCallback, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, errorMessage, resultsOf, tenantPath } from "../api/client";
import type { Blueprint, BlueprintVersion, Page } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Spinner, StateBadge, formatTime, useAsync } from "../components/ui";
import { diffGraphs, type GraphDiff } from "../graph/diff";
import { CertificationPanel } from "./CertificationPanel";
import { DiffView } from "./DiffView";
import { OriginPanel } from "./OriginPanel";

type VersionSummary = Omit<BlueprintVersion, "graph"> & { graph?: BlueprintVersion["graph"] };

export function BlueprintDetailPage() {
  const { slug = "" } = useParams();
  const { tenant, can } = useTenant();
  const navigate = useNavigate();
  const base = tenantPath(tenant, `/blueprints/${encodeURIComponent(slug)}`);
  const bp = useAsync(() => api<Blueprint>(`${base}/`), [base]);
  const versions = useAsync(() => api<VersionSummary[] | Page<VersionSummary>>(`${base}/versions/`).then(resultsOf), [base]);
  const [a, setA] = useState("");
  const [b, setB] = useState("");
  const [diff, setDiff] = useState<GraphDiff | null>(null);
  const [diffError, setDiffError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [forkOpen, setForkOpen] = useState(false);
  const [forkSlug, setForkSlug] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const reloadVersions = versions.reload;
  const reloadBlueprint = bp.reload;
  const onVersionChanged = useCallback(() => {
    void reloadVersions();
    void reloadBlueprint();
  }, [reloadVersions, reloadBlueprint]);

  const compare = async (from = a, to = b) => {
    setDiff(null);
    setDiffError(null);
    try {
      const [va, vb] = await Promise.all(
        [from, to].map((v) => api<BlueprintVersion>(`${base}/versions/${encodeURIComponent(v)}/`)),
      );
      setDiff(diffGraphs(va.graph, vb.graph));
    } catch (err) {
      setDiffError(err);
    }
  };

  const submit = async (v: string) => {
    setActionError(null);
    try {
      await api(`${base}/versions/${encodeURIComponent(v)}/submit`, { method: "POST" });
      void versions.reload();
    } catch (err) {
      setActionError(err);
    }
  };

  const remove = async () => {
    if (!window.confirm(`Delete the blueprint ${slug} and all its versions?`)) return;
    try {
      await api(`${base}/`, { method: "DELETE" });
      navigate(`/t/${tenant}/blueprints`);
    } catch (err) {
      setActionError(err);
    }
  };

  if (bp.error) return <div className="page"><ErrorNote error={bp.error} /></div>;
  if (!bp.data) return <Spinner />;
  const list = versions.data ?? [];
  const latest = list[0];
  const current = list.find((v) => v.version === selected) ?? latest;
  const upgraded = (v: BlueprintVersion) => {
    const before = latest?.version;
    onVersionChanged();
    setSelected(v.version);
    if (before && before !== v.version) {
      setA(before);
      setB(v.version);
      void compare(before, v.version); // what the upgrade changed, in full
    }
  };
  return (
    <div className="page">
      <header className="page-head">
        <div>
          <Link to={`/t/${tenant}/blueprints`} className="crumb">
            ← Blueprints
          </Link>
          <h1>{bp.data.title}</h1>
          <p className="muted">{bp.data.description}</p>
          <div className="tags">
            {bp.data.category && <span className="tag cat">{bp.data.category}</span>}
            {bp.data.tags?.map((t) => (
              <span key={t} className="tag">
                {t}
              </span>
            ))}
          </div>
        </div>
        <span className="spacer" />
        {latest && (
          <Link className="button primary" to={`/t/${tenant}/blueprints/${slug}/edit/${latest.version}`} data-testid="open-editor">
            {can("edit") ? "Open in editor" : "View graph"}
          </Link>
        )}
        {can("edit") && (
          <button type="button" onClick={() => setForkOpen(true)} data-testid="blueprint-fork">
            Fork
          </button>
        )}
        {can("edit") && (
          <button type="button" className="danger" onClick={() => void remove()} data-testid="blueprint-delete">
            Delete
          </button>
        )}
      </header>
      <ErrorNote error={actionError} onDismiss={() => setActionError(null)} />
      <OriginPanel base={base} blueprint={bp.data} onUpgraded={upgraded} />
      {current && (
        <CertificationPanel key={current.version} base={base} slug={slug} version={current.version} state={current.state} onChanged={onVersionChanged} />
      )}
      <div className="two-col">
        <section className="card">
          <h2>Versions</h2>
          <ErrorNote error={versions.error} />
          <div className="table-wrap">
            <table className="table" data-testid="versions">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>State</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr key={v.version} data-testid={`version-${v.version}`} className={v.version === current?.version ? "selected" : undefined}>
                    <td>
                      <Link to={`/t/${tenant}/blueprints/${slug}/edit/${v.version}`}>{v.version}</Link>
                    </td>
                    <td>
                      <StateBadge state={v.state} />
                    </td>
                    <td>
                      {formatTime(v.created_at)}
                      {v.created_by && <div className="muted small">{v.created_by}</div>}
                    </td>
                    <td className="row-actions">
                      {v.version !== current?.version && (
                        <button type="button" className="link" onClick={() => setSelected(v.version)} data-testid={`version-open-${v.version}`}>
                          {can("publish") ? "Certify, publish…" : "Certification"}
                        </button>
                      )}
                      {can("edit") && !can("publish") && v.state === "draft" && (
                        <button type="button" onClick={() => void submit(v.version)} data-testid={`submit-${v.version}`}>
                          Submit for certification
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Compare two versions</h3>
          <div className="row">
            <select aria-label="From version" value={a} onChange={(e) => setA(e.target.value)} data-testid="diff-from">
              <option value="">from…</option>
              {list.map((v) => (
                <option key={v.version}>{v.version}</option>
              ))}
            </select>
            <select aria-label="To version" value={b} onChange={(e) => setB(e.target.value)} data-testid="diff-to">
              <option value="">to…</option>
              {list.map((v) => (
                <option key={v.version}>{v.version}</option>
              ))}
            </select>
            <button type="button" onClick={() => void compare()} disabled={!a || !b || a === b} data-testid="diff-run">
              Compare
            </button>
          </div>
          <ErrorNote error={diffError} />
          {diff && <DiffView diff={diff} />}
        </section>
        <section className="card">
          <h2>README</h2>
          <Readme base={base} version={latest?.version} readme={latest?.readme} />
        </section>
      </div>
      {forkOpen && (
        <Modal title="Fork this blueprint" onClose={() => setForkOpen(false)}>
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              try {
                const created = await api<Blueprint>(`${base}/fork`, { method: "POST", body: { slug: forkSlug } });
                setForkOpen(false);
                navigate(`/t/${tenant}/blueprints/${created.slug}`);
              } catch (err) {
                setActionError(new Error(errorMessage(err)));
                setForkOpen(false);
              }
            }}
          >
            <label className="field">
              <span className="field-label">New slug</span>
              <input value={forkSlug} required onChange={(e) => setForkSlug(e.target.value)} />
            </label>
            <div className="actions">
              <button type="submit" className="primary">
                Fork
              </button>
            </div>
          </form>
        </Modal>
      )}
    </div>
  );
}

function Readme({ base, version, readme }: { base: string; version?: string; readme?: string }) {
  const full = useAsync(
    () => (readme !== undefined || !version ? Promise.resolve(readme ?? "") : api<BlueprintVersion>(`${base}/versions/${encodeURIComponent(version)}/`).then((v) => v.readme)),
    [base, version, readme],
  );
  if (!full.data) return <p className="muted">No README.</p>;
  return <pre className="readme-view">{full.data}</pre>;
}
