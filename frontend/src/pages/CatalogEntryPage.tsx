// One catalog entry: who published it, its certificate and figures, README, parameters and the
// telemetry it needs; install it from here.
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../api/client";
import type { CatalogEntry, Certificate, TelemetryRequirement } from "../api/types";
import { useSession } from "../auth/session";
import { ErrorNote, Spinner, StateBadge, formatTime, formatValue, useAsync } from "../components/ui";
import { describeSchema } from "../forms/schemaForm";
import type { JsonSchema } from "../graph/types";
import { CERTIFICATION_STEPS, STEP_TITLES, figureLabel, formatFigure } from "./certification";
import { InstallDialog } from "./InstallDialog";
import "./catalog.css";

export function CatalogEntryPage() {
  const { tenant = "", id = "" } = useParams();
  const { me } = useSession();
  const entry = useAsync(() => api<CatalogEntry>(`/catalog/${encodeURIComponent(id)}/`), [id]);
  const [installing, setInstalling] = useState(false);
  if (entry.error) {
    return (
      <div className="page">
        <Link to={`/t/${tenant}/catalog`} className="crumb">
          ← Catalog
        </Link>
        <ErrorNote error={entry.error} />
      </div>
    );
  }
  const e = entry.data;
  if (!e) return <Spinner />;
  const canInstall = !!me?.memberships.some((m) => m.capabilities.includes("edit"));
  return (
    <div className="page" data-testid="catalog-entry">
      <header className="page-head">
        <div>
          <Link to={`/t/${tenant}/catalog`} className="crumb">
            ← Catalog
          </Link>
          <h1>{e.title}</h1>
          <p className="muted">
            Published by <strong>{e.tenant}</strong> · {e.slug} <span data-testid="catalog-entry-version">{e.version}</span>{" "}
            {e.state && e.state !== "published" && <StateBadge state={e.state} />}
          </p>
          <p>{e.description}</p>
          <div className="tags">
            {e.category && (
              <Link className="tag cat" to={`/t/${tenant}/catalog?category=${encodeURIComponent(e.category)}`}>
                {e.category}
              </Link>
            )}
            {e.tags?.map((t) => (
              <Link key={t} className="tag" to={`/t/${tenant}/catalog?tag=${encodeURIComponent(t)}`}>
                {t}
              </Link>
            ))}
          </div>
        </div>
        <span className="spacer" />
        {canInstall && (
          <button type="button" className="primary" onClick={() => setInstalling(true)} data-testid="catalog-entry-install">
            Install…
          </button>
        )}
      </header>
      {e.state === "deprecated" && (
        <p className="notice warn">This version is deprecated by its publisher: it is no longer listed. Prefer a newer version.</p>
      )}
      <div className="two-col">
        <div>
          <CertificateCard certificate={e.certificate} />
          <section className="card">
            <h2>Parameters</h2>
            <ParamsTable schema={e.params_schema as JsonSchema} />
          </section>
          <section className="card">
            <h2>Telemetry it needs</h2>
            <TelemetryList telemetry={e.required_telemetry ?? []} />
          </section>
        </div>
        <section className="card">
          <h2>README</h2>
          {e.readme ? <pre className="readme-view">{e.readme}</pre> : <p className="muted">No README.</p>}
        </section>
      </div>
      {installing && <InstallDialog entry={e} onClose={() => setInstalling(false)} />}
    </div>
  );
}

function CertificateCard({ certificate }: { certificate: Certificate | null }) {
  if (!certificate) {
    return (
      <section className="card">
        <h2>Certificate</h2>
        <p className="muted">No signed certificate.</p>
      </section>
    );
  }
  const doc = certificate.signed_report?.document;
  const save = () => {
    const url = URL.createObjectURL(new Blob([JSON.stringify(certificate.signed_report, null, 2)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${doc?.blueprint ?? "blueprint"}-${doc?.version ?? ""}-certificate.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="card" data-testid="catalog-certificate">
      <div className="card-head">
        <h2>Certificate</h2>
        <span className={`badge state-${certificate.verdict === "certified" ? "certified" : "failed"}`}>{certificate.verdict}</span>
        <span className="spacer" />
        <button type="button" onClick={save} data-testid="catalog-certificate-download">
          Download the signed report
        </button>
      </div>
      <dl className="facts">
        <dt>Certified</dt>
        <dd>{formatTime(certificate.finished_at)}</dd>
        {doc?.compiler && (
          <>
            <dt>Compiler</dt>
            <dd>{doc.compiler}</dd>
          </>
        )}
        <dt>Signed by</dt>
        <dd>
          {certificate.signed_report?.signer?.alg} key <code>{certificate.signed_report?.signer?.key_id}</code>{" "}
          <span className="muted small">(check with `aiot cert verify`)</span>
        </dd>
      </dl>
      <table className="table figures-table" data-testid="catalog-figures">
        <thead>
          <tr>
            <th>Step</th>
            <th>Figures</th>
          </tr>
        </thead>
        <tbody>
          {CERTIFICATION_STEPS.filter((s) => certificate.figures?.[s]).map((s) => (
            <tr key={s}>
              <td>{STEP_TITLES[s].title}</td>
              <td>
                {Object.entries(certificate.figures[s]).length === 0 ? (
                  <span className="muted">passed</span>
                ) : (
                  Object.entries(certificate.figures[s]).map(([k, v]) => (
                    <span key={k} className="figure">
                      {figureLabel(k)} <strong>{formatFigure(k, v)}</strong>
                    </span>
                  ))
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ParamsTable({ schema }: { schema: JsonSchema | null }) {
  const fields = describeSchema(schema);
  if (!fields.length) return <p className="muted">No parameters.</p>;
  const range = (min?: number, max?: number) =>
    min !== undefined && max !== undefined ? `${min} … ${max}` : min !== undefined ? `≥ ${min}` : max !== undefined ? `≤ ${max}` : "";
  return (
    <table className="table" data-testid="catalog-params">
      <thead>
        <tr>
          <th>Parameter</th>
          <th>Default</th>
          <th>Range</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.name}>
            <td>
              {f.title} <code className="muted small">{f.name}</code>
              {f.description && <div className="muted small">{f.description}</div>}
            </td>
            <td>{f.default === undefined ? "—" : formatValue(f.default)}</td>
            <td>{f.options ? f.options.map(String).join(", ") : range(f.minimum, f.maximum)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TelemetryList({ telemetry }: { telemetry: TelemetryRequirement[] }) {
  if (!telemetry.length) return <p className="muted">No telemetry sources.</p>;
  return (
    <ul className="telemetry" data-testid="catalog-telemetry">
      {telemetry.map((t) => {
        const schema = (t.schema ?? {}) as JsonSchema;
        const required = new Set(schema.required ?? []);
        return (
          <li key={t.source}>
            <div>
              <code>{t.topic ?? "(any topic)"}</code>
              {t.key && <span className="muted small"> keyed by {t.key}</span>}
            </div>
            {schema.properties && (
              <ul className="fields-list">
                {Object.entries(schema.properties).map(([name, prop]) => (
                  <li key={name}>
                    <code>{name}</code>{" "}
                    <span className="muted small">
                      {Array.isArray(prop?.type) ? prop.type.join(" | ") : (prop?.type ?? "any")}
                      {required.has(name) ? ", required" : ""}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ul>
  );
}
