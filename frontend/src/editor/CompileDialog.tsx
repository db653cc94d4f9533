// Compile a saved version: POST …/compile, then follow `compile.progress` on the live socket
// (polling the task as a fallback), then show the bundle.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, apiUrl, errorMessage, tenantPath } from "../api/client";
import { useLive } from "../api/live";
import type { Bundle, CompileProgress } from "../api/types";
import { formatBytes, Modal } from "../components/ui";

const DONE = new Set(["success", "succeeded", "done", "finished", "complete", "completed"]);
const FAILED = new Set(["failure", "failed", "error", "revoked"]);

interface Progress {
  step: string;
  progress: number;
  state: string;
  error?: string;
  bundleId?: string;
}

export function CompileDialog({ tenant, slug, version, onClose }: { tenant: string; slug: string; version: string; onClose: () => void }) {
  const [taskId, setTaskId] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress>({ step: "queued", progress: 0, state: "pending" });
  const [bundle, setBundle] = useState<Bundle | null>(null);
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  const finished = useRef(false);

  const finish = useCallback(
    async (bundleId: string | undefined) => {
      if (finished.current) return;
      finished.current = true;
      if (!bundleId) return setError("The compiler finished without a bundle.");
      try {
        setBundle(await api<Bundle>(tenantPath(tenant, `/bundles/${encodeURIComponent(bundleId)}/`)));
      } catch (err) {
        setError(errorMessage(err));
      }
    },
    [tenant],
  );

  const apply = useCallback(
    (p: Partial<CompileProgress> & { state?: string }) => {
      const state = (p.state ?? "").toLowerCase();
      setProgress((old) => ({
        step: p.step ?? old.step,
        progress: typeof p.progress === "number" ? p.progress : old.progress,
        state: state || old.state,
        error: p.error ?? old.error,
        bundleId: p.bundle_id ?? old.bundleId,
      }));
      if (FAILED.has(state)) {
        finished.current = true;
        setError(p.error || "Compilation failed.");
      } else if (DONE.has(state) || (p.bundle_id && (p.progress ?? 0) >= 1)) {
        setProgress((old) => ({ ...old, progress: 1 }));
        void finish(p.bundle_id);
      }
    },
    [finish],
  );

  // The worker may report before the POST's answer names the task: keep those messages until then.
  const early = useRef<CompileProgress[]>([]);
  useLive(["compile.progress"], (msg) => {
    const data = msg.data as CompileProgress;
    if (!taskId) {
      if (early.current.length < 100) early.current.push(data);
    } else if (data.task_id === taskId) apply(data);
  });
  useEffect(() => {
    if (!taskId) return;
    for (const data of early.current.splice(0)) if (data.task_id === taskId) apply(data);
  }, [taskId, apply]);

  // Subscribed (above) before the request is sent.
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    api<{ task_id: string }>(tenantPath(tenant, `/blueprints/${encodeURIComponent(slug)}/versions/${encodeURIComponent(version)}/compile`), {
      method: "POST",
      body: {},
    }).then(
      (r) => setTaskId(r.task_id),
      (err) => setError(errorMessage(err)),
    );
  }, [tenant, slug, version]);

  // Fallback for when the socket is down: poll the task.
  useEffect(() => {
    if (!taskId) return;
    const timer = setInterval(async () => {
      if (finished.current) return clearInterval(timer);
      try {
        const t = await api<{ state: string; progress?: number | null; step?: string | null; result?: unknown; error?: string }>(
          tenantPath(tenant, `/tasks/${encodeURIComponent(taskId)}`),
        );
        // the task's own result says done/failed; Celery's state says whether it has one yet
        const result = (t.result ?? {}) as { state?: string; bundle_id?: string; error?: string };
        const state = t.result ? result.state ?? t.state : t.state;
        if (state.toUpperCase() === "PROGRESS" || state.toUpperCase() === "PENDING" || state.toUpperCase() === "STARTED") {
          apply({ state: "running", progress: t.progress ?? undefined, step: t.step ?? undefined });
        } else {
          apply({ state, progress: t.progress ?? undefined, step: t.step ?? undefined, bundle_id: result.bundle_id, error: result.error ?? t.error });
        }
      } catch {
        /* the socket may still deliver */
      }
    }, 2000);
    return () => clearInterval(timer);
  }, [taskId, tenant, apply]);

  const pct = Math.round(Math.max(0, Math.min(1, progress.progress)) * 100);
  return (
    <Modal title={`Compile ${slug} ${version}`} onClose={onClose} testId="compile-dialog">
      {!bundle && !error && (
        <>
          <p>
            {progress.step} <span className="muted">({progress.state})</span>
          </p>
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid="compile-progress">
            <div className="progress-bar" style={{ width: `${pct}%` }} />
          </div>
          <p className="muted">{pct}%</p>
        </>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="compile-error">
          {error}
        </p>
      )}
      {bundle && (
        <dl className="facts" data-testid="compile-result">
          <dt>Bundle</dt>
          <dd>
            <code data-testid="bundle-id">{bundle.bundle_id}</code>
          </dd>
          <dt>Size</dt>
          <dd data-testid="bundle-size">{formatBytes(bundle.size)}</dd>
          <dt>Download</dt>
          <dd>
            <a
              href={bundle.download_url ? apiUrl(bundle.download_url) : `/api/v1${tenantPath(tenant, `/bundles/${bundle.bundle_id}/download`)}`}
              download
              data-testid="bundle-download"
            >
              {slug}-{version}.aiotb
            </a>
          </dd>
        </dl>
      )}
      <div className="actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
