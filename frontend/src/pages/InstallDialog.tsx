// Installing a catalog entry into a workspace of mine: where, under which slug, and its parameter
// values in a form built from the entry's params schema. Errors stand next to their field.
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api } from "../api/client";
import type { CatalogEntry, Installed } from "../api/types";
import { useSession } from "../auth/session";
import { Modal } from "../components/ui";
import { SchemaForm } from "../forms/SchemaForm";
import { checkValues, defaultsOf, describeSchema } from "../forms/schemaForm";
import type { JsonSchema } from "../graph/types";
import { installErrors, slugProblem, type InstallErrors } from "./catalog";

const NO_ERRORS: InstallErrors = { params: {}, fields: {}, general: null };

export function InstallDialog({ entry, onClose }: { entry: CatalogEntry; onClose: () => void }) {
  const { me } = useSession();
  const { tenant: current = "" } = useParams();
  const targets = me?.memberships.filter((m) => m.capabilities.includes("edit")) ?? [];
  const schema = (entry.params_schema ?? { type: "object", properties: {} }) as JsonSchema;
  const [tenant, setTenant] = useState(() => (targets.some((m) => m.tenant.slug === current) ? current : (targets[0]?.tenant.slug ?? "")));
  const [slug, setSlug] = useState(entry.slug);
  const [params, setParams] = useState<Record<string, unknown>>(() => defaultsOf(schema));
  const [errors, setErrors] = useState<InstallErrors>(NO_ERRORS);
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [installed, setInstalled] = useState<Installed | null>(null);
  const problems = checkValues(describeSchema(schema), params);
  const slugError = (tried || slug !== entry.slug ? slugProblem(slug) : null) ?? errors.fields.slug ?? null;
  const tenantName = (slug: string) => targets.find((m) => m.tenant.slug === slug)?.tenant.name ?? slug;

  if (installed) {
    const to = `/t/${installed.tenant}/blueprints/${installed.slug}`;
    return (
      <Modal title={`Install ${entry.title}`} onClose={onClose} testId="install-dialog" wide>
        <div className="notice ok" role="status" data-testid="install-done">
          Installed {entry.title} {installed.version} into {tenantName(installed.tenant)} as <code>{installed.slug}</code>.
        </div>
        <p>It is your workspace’s own blueprint now: edit, certify, compile and deploy it there.</p>
        <div className="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <Link className="button primary" to={to} onClick={onClose} data-testid="install-open">
            Open {installed.slug}
          </Link>
        </div>
      </Modal>
    );
  }

  if (!targets.length) {
    return (
      <Modal title={`Install ${entry.title}`} onClose={onClose} testId="install-dialog">
        <p>Installing needs a workspace where your role may edit blueprints (designer, publisher or admin).</p>
      </Modal>
    );
  }

  return (
    <Modal title={`Install ${entry.title} ${entry.version}`} onClose={onClose} testId="install-dialog" wide>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setTried(true);
          if (Object.keys(problems).length || slugProblem(slug)) {
            setErrors({ ...NO_ERRORS, general: "Some values need fixing: see the fields marked in red." });
            return;
          }
          setBusy(true);
          setErrors(NO_ERRORS);
          try {
            setInstalled(
              await api<Installed>(`/catalog/${encodeURIComponent(String(entry.id))}/install`, {
                method: "POST",
                body: { tenant, slug, params },
              }),
            );
          } catch (err) {
            setErrors(installErrors(err));
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
            {errors.fields.tenant && (
              <p className="field-error" role="alert">
                {errors.fields.tenant}
              </p>
            )}
          </label>
          <label className={`field grow${slugError ? " has-error" : ""}`}>
            <span className="field-label">Slug of the new blueprint</span>
            <input
              value={slug}
              required
              onChange={(e) => {
                setSlug(e.target.value);
                setErrors((x) => ({ ...x, fields: { ...x.fields, slug: "" } }));
              }}
              data-testid="install-slug"
            />
            {slugError && (
              <p className="field-error" role="alert" data-testid="install-slug-error">
                {slugError}
              </p>
            )}
          </label>
        </div>
        <h3>Parameters</h3>
        <p className="muted small">The values become the installed blueprint’s defaults; you can change them later in the editor.</p>
        <SchemaForm
          schema={schema}
          values={params}
          serverErrors={errors.params}
          onChange={(name, value) => {
            const next = { ...params };
            if (value === undefined) delete next[name];
            else next[name] = value;
            setParams(next);
            if (errors.params[name]) {
              const rest = { ...errors.params };
              delete rest[name];
              setErrors({ ...errors, params: rest });
            }
          }}
          testIdPrefix="install-param"
        />
        {errors.general && (
          <p className="field-error" role="alert" data-testid="install-error">
            {errors.general}
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
