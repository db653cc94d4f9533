// Where a blueprint came from (the catalog, or a fork), and the newer published versions of its
// source with what they change; upgrading makes a new draft version from one of them.
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, errorMessage } from "../api/client";
import type { Blueprint, BlueprintVersion, Upgrade } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, useAsync } from "../components/ui";
import { describeDiff } from "./catalog";
import "./catalog.css";

function semverDesc(a: Upgrade, b: Upgrade): number {
  const pa = a.version.split(".").map(Number);
  const pb = b.version.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pb[i] - pa[i];
  return 0;
}

export function OriginPanel({
  base,
  blueprint,
  onUpgraded,
}: {
  base: string;
  blueprint: Blueprint;
  /** a new draft version was made from a newer catalog version */
  onUpgraded: (version: BlueprintVersion) => void;
}) {
  const { tenant, can } = useTenant();
  const from = blueprint.forked_from;
  const upgrades = useAsync(
    () => (from ? api<Upgrade[]>(`${base}/upgrades/`).then((u) => [...u].sort(semverDesc)) : Promise.resolve([])),
    [base, from?.tenant, from?.blueprint, from?.version],
  );
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!from) return null;
  const fromCatalog = from.tenant !== tenant;
  const upgrade = async (u: Upgrade) => {
    setBusy(u.catalog_id);
    setError(null);
    try {
      const v = await api<BlueprintVersion>(`${base}/upgrade`, { method: "POST", body: { catalog_id: u.catalog_id } });
      await upgrades.reload();
      onUpgraded(v);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };
  const list = upgrades.data ?? [];
  return (
    <section className="card origin" data-testid="origin">
      <p data-testid="origin-source">
        {fromCatalog ? "Installed from the catalog: " : "Forked from "}
        <strong>
          {fromCatalog ? `${from.tenant} / ` : ""}
          {from.blueprint}
        </strong>{" "}
        {from.version}
        {fromCatalog ? (
          <>
            {" · "}
            <Link to={`/t/${tenant}/catalog?q=${encodeURIComponent(from.blueprint)}`}>find it in the catalog</Link>
          </>
        ) : (
          <>
            {" · "}
            <Link to={`/t/${tenant}/blueprints/${encodeURIComponent(from.blueprint)}`}>open it</Link>
          </>
        )}
      </p>
      <ErrorNote error={upgrades.error} />
      {list.length > 0 && (
        <div className="upgrades" data-testid="upgrades">
          <h2>{list.length === 1 ? "A newer version is published" : `${list.length} newer versions are published`}</h2>
          {list.map((u) => (
            <div key={u.catalog_id} className="upgrade" data-testid={`upgrade-${u.version}`}>
              <div className="row wrap">
                <strong>{u.version}</strong>
                <span className="muted" data-testid={`upgrade-summary-${u.version}`}>
                  {describeDiff(u.diff)}
                </span>
                <span className="spacer" />
                <Link to={`/t/${tenant}/catalog/${u.catalog_id}`}>Details</Link>
                {can("edit") && (
                  <button
                    type="button"
                    className="primary"
                    onClick={() => void upgrade(u)}
                    disabled={busy !== null}
                    data-testid={`upgrade-run-${u.version}`}
                  >
                    {busy === u.catalog_id ? "Upgrading…" : `Upgrade to ${u.version}`}
                  </button>
                )}
              </div>
              <UpgradeDiff upgrade={u} />
            </div>
          ))}
          <p className="muted small">
            Upgrading adds a new draft version with the newer graph, README and scenarios; your parameter values are kept where the
            newer version accepts them. Your versions stay as they are.
          </p>
        </div>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="upgrade-error">
          {error}
        </p>
      )}
    </section>
  );
}

function UpgradeDiff({ upgrade }: { upgrade: Upgrade }) {
  const d = upgrade.diff;
  const rows: [string, string, string[]][] = [
    ["added", "+", [...d.nodes.added.map((n) => `node ${n}`), ...d.edges.added.map((e) => `edge ${e}`), ...d.params.added.map((p) => `parameter ${p}`)]],
    ["removed", "−", [...d.nodes.removed.map((n) => `node ${n}`), ...d.edges.removed.map((e) => `edge ${e}`), ...d.params.removed.map((p) => `parameter ${p}`)]],
    ["changed", "~", [...d.nodes.changed.map((n) => `node ${n}`), ...d.params.changed.map((p) => `parameter ${p}`)]],
  ];
  if (rows.every(([, , items]) => !items.length)) return null;
  return (
    <details className="diff">
      <summary>What changes</summary>
      <ul>
        {rows.flatMap(([cls, mark, items]) =>
          items.map((item) => (
            <li key={`${cls}-${item}`} className={cls}>
              {mark} {item}
            </li>
          )),
        )}
      </ul>
    </details>
  );
}
