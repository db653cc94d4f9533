// A version's certification and lifecycle: certify (the publisher role), the eight steps with their
// live status, figures and time, the verdict, a failed step's reason and how to reproduce it, the
// signed report; then publish a certified version, deprecate a published one.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, apiUrl } from "../api/client";
import { useLive, useLiveState } from "../api/live";
import type { BlueprintVersion, Certification, CertificationProgress, LiveMessage, SignedReport, VersionState } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, StateBadge, formatTime } from "../components/ui";
import {
  STEP_TITLES,
  applyProgress,
  figureLabel,
  formatElapsed,
  formatFigure,
  fromCertification,
  hasGap,
  noCertification,
  reproOf,
  startedCertification,
  stepElapsed,
  type CertificationView,
  type StepView,
} from "./certification";
import "./catalog.css";

const CERTIFIABLE: VersionState[] = ["draft", "certifying", "failed", "certified"];
const POLL_MS = 3000; // only while the live socket is down

export function CertificationPanel({
  base,
  slug,
  version,
  state,
  onChanged,
}: {
  /** the blueprint's API path, /t/{tenant}/blueprints/{slug} */
  base: string;
  slug: string;
  version: string;
  state: VersionState;
  /** the version's state may have changed: reload what shows it */
  onChanged: () => void;
}) {
  const { can } = useTenant();
  const live = useLiveState();
  const vbase = `${base}/versions/${encodeURIComponent(version)}`;
  const [view, setViewState] = useState<CertificationView>(noCertification);
  // The run as last shown, for the live handler and the fetches to build on (updaters stay pure).
  const viewRef = useRef(view);
  const setView = useCallback((next: CertificationView | ((v: CertificationView) => CertificationView)) => {
    viewRef.current = typeof next === "function" ? next(viewRef.current) : next;
    setViewState(viewRef.current);
  }, []);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const fetchRun = useCallback(async () => {
    try {
      const cert = await api<Certification>(`${vbase}/certification/`);
      setView((v) => fromCertification(cert, v));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) setError(err);
    } finally {
      setLoaded(true);
    }
  }, [vbase, setView]);

  // A draft has never been certified: asking would only get a 404 (the panel is keyed by version,
  // so this is the state it opened with).
  const openedAsDraft = useRef(state === "draft");
  useEffect(() => {
    setView(noCertification());
    setError(null);
    if (openedAsDraft.current) setLoaded(true);
    else void fetchRun();
  }, [fetchRun, setView]);

  useLive(["certification.progress"], (msg: LiveMessage) => {
    const p = msg.data as CertificationProgress;
    if (p.blueprint !== slug || p.version !== version) return;
    const before = viewRef.current;
    const next = applyProgress(before, p, Date.now());
    if (next === before) return;
    setView(next);
    if (p.step === "report" || hasGap(next)) void fetchRun(); // the verdict's details, or missed steps
  });

  const running = view.state === "running";
  useEffect(() => {
    if (!running) return;
    const tick = setInterval(() => setNow(Date.now()), 250);
    const poll = live === "open" ? undefined : setInterval(() => void fetchRun(), POLL_MS);
    return () => {
      clearInterval(tick);
      if (poll) clearInterval(poll);
    };
  }, [running, live, fetchRun]);

  // A run that ends here moves the version to certified or failed: the page shows it.
  const lastState = useRef(view.state);
  useEffect(() => {
    if (lastState.current === "running" && (view.state === "certified" || view.state === "failed")) onChanged();
    lastState.current = view.state;
  }, [view.state, onChanged]);

  const act = async (what: "certify" | "publish" | "deprecate") => {
    if (what === "deprecate" && !window.confirm(`Deprecate ${slug} ${version}? It leaves the catalog listing; installs stay.`)) return;
    setBusy(what);
    setError(null);
    try {
      if (what === "certify") {
        setView(startedCertification(null));
        setNow(Date.now());
        const started = await api<{ certification: number; task_id: string }>(`${vbase}/certify`, { method: "POST" });
        setView((v) => (v.id === null ? { ...v, id: started.certification } : v));
      } else {
        await api(`${vbase}/${what}`, { method: "POST" });
      }
      onChanged();
    } catch (err) {
      setError(err);
      if (what === "certify") void fetchRun();
    } finally {
      setBusy(null);
    }
  };

  const publisher = can("publish");
  return (
    <section className="card cert-panel" data-testid="version-panel" aria-labelledby="version-panel-title">
      <header className="card-head">
        <h2 id="version-panel-title">
          Version {version} <StateBadge state={state} />
        </h2>
        <span className="spacer" />
        {publisher && CERTIFIABLE.includes(state) && (
          <button
            type="button"
            className={state === "certified" ? undefined : "primary"}
            onClick={() => void act("certify")}
            disabled={running || busy !== null}
            data-testid="certify"
          >
            {running ? "Certifying…" : state === "failed" || state === "certified" ? "Certify again" : "Certify"}
          </button>
        )}
        {publisher && state === "certified" && (
          <button type="button" className="primary" onClick={() => void act("publish")} disabled={busy !== null} data-testid="publish">
            Publish to the catalog
          </button>
        )}
        {publisher && state === "published" && (
          <button type="button" className="danger" onClick={() => void act("deprecate")} disabled={busy !== null} data-testid="deprecate">
            Deprecate
          </button>
        )}
      </header>
      {!publisher && CERTIFIABLE.includes(state) && (
        <p className="muted small">Certifying and publishing need the publisher role in this workspace.</p>
      )}
      {state === "draft" && publisher && (
        <p className="muted small">Certifying a draft submits it first: the version can no longer change.</p>
      )}
      {state === "published" && <p className="small">Published: in the catalog for every workspace to install.</p>}
      {state === "deprecated" && <p className="small muted">Deprecated: out of the catalog listing; existing installs keep working.</p>}
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {loaded && view.state === "none" ? (
        <p className="muted" data-testid="cert-none">
          This version has not been certified.
        </p>
      ) : (
        <CertificationSteps view={view} now={now} vbase={vbase} />
      )}
    </section>
  );
}

function Verdict({ view }: { view: CertificationView }) {
  if (view.state === "running") {
    const done = view.steps.filter((s) => s.status !== "pending" && s.status !== "running").length;
    return (
      <p className="cert-verdict running" data-testid="cert-verdict" role="status">
        Certifying: {done} of {view.steps.length} steps done
      </p>
    );
  }
  if (view.state === "certified") {
    return (
      <p className="cert-verdict certified" data-testid="cert-verdict" role="status">
        Certified{view.finishedAt ? ` on ${formatTime(view.finishedAt)}` : ""}: every step passed.
      </p>
    );
  }
  if (view.state === "failed") {
    const failed = view.steps.filter((s) => s.status === "failed").map((s) => STEP_TITLES[s.step].title);
    return (
      <p className="cert-verdict failed" data-testid="cert-verdict" role="status">
        Not certified{failed.length ? `: ${failed.join(", ")} failed` : ""}.
      </p>
    );
  }
  return null;
}

function CertificationSteps({ view, now, vbase }: { view: CertificationView; now: number; vbase: string }) {
  const [version, setVersion] = useState<BlueprintVersion | null>(null);
  const failed = view.steps.some((s) => s.status === "failed");
  useEffect(() => {
    if (!failed || version) return;
    api<BlueprintVersion>(`${vbase}/`).then(setVersion, () => setVersion(null));
  }, [failed, version, vbase]);
  return (
    <>
      <Verdict view={view} />
      <ol className="cert-steps" data-testid="cert-steps">
        {view.steps.map((s, i) => (
          <StepRow key={s.step} step={s} index={i} now={now} version={version} />
        ))}
      </ol>
      {view.reportAvailable && <Report vbase={vbase} />}
    </>
  );
}

const STATUS_TEXT: Record<StepView["status"], string> = {
  pending: "pending",
  running: "running",
  passed: "passed",
  failed: "failed",
  skipped: "skipped",
};

function StepRow({ step, index, now, version }: { step: StepView; index: number; now: number; version: BlueprintVersion | null }) {
  const { title, what } = STEP_TITLES[step.step];
  const elapsed = formatElapsed(stepElapsed(step, now));
  const figures = Object.entries(step.figures ?? {});
  const repro = reproOf(step, version);
  return (
    <li className={`cert-step step-${step.status}`} data-testid={`cert-step-${step.step}`} aria-current={step.status === "running" ? "step" : undefined}>
      <span className="step-index" aria-hidden="true">
        {index + 1}
      </span>
      <div className="step-main">
        <div className="step-head">
          <strong>{title}</strong>
          <span className={`step-status status-${step.status}`} data-testid={`cert-step-status-${step.step}`}>
            {STATUS_TEXT[step.status]}
          </span>
          <span className="step-elapsed muted small" data-testid={`cert-step-elapsed-${step.step}`}>
            {elapsed}
          </span>
        </div>
        <p className="muted small step-what">{step.message && step.status !== "failed" ? step.message : what}</p>
        {figures.length > 0 && (
          <dl className="figures" data-testid={`cert-step-figures-${step.step}`}>
            {figures.map(([k, v]) => (
              <div key={k}>
                <dt>{figureLabel(k)}</dt>
                <dd>{formatFigure(k, v)}</dd>
              </div>
            ))}
          </dl>
        )}
        {repro && <ReproView step={step} repro={repro} />}
      </div>
    </li>
  );
}

function download(name: string, content: string, type = "application/json") {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function ReproView({ step, repro }: { step: StepView; repro: NonNullable<ReturnType<typeof reproOf>> }) {
  return (
    <div className="repro" data-testid={`cert-repro-${step.step}`}>
      <p className="field-error" role="alert">
        {repro.findings[0] ?? "This step failed."}
      </p>
      {repro.findings.length > 1 && (
        <ul className="repro-findings">
          {repro.findings.slice(1, 21).map((f, i) => (
            <li key={i}>
              <pre>{f}</pre>
            </li>
          ))}
        </ul>
      )}
      {(repro.files.length > 0 || repro.commands.length > 0) && (
        <details>
          <summary>How to reproduce</summary>
          {repro.files.length > 0 && (
            <p className="row wrap">
              {repro.files.map((f) => (
                <button
                  key={f.name}
                  type="button"
                  className="link"
                  onClick={() => download(f.name, f.content, f.name.endsWith(".jsonl") ? "application/x-ndjson" : "application/json")}
                >
                  ⤓ {f.name}
                </button>
              ))}
            </p>
          )}
          {repro.commands.length > 0 && (
            <>
              <p className="small muted">With the files in one folder, the `aiot` command line shows what the step saw:</p>
              <pre className="commands">{repro.commands.join("\n")}</pre>
            </>
          )}
        </details>
      )}
      {step.repro && (
        <details>
          <summary>Everything the step recorded (JSON)</summary>
          <pre className="repro-json">{JSON.stringify(step.repro, null, 2).slice(0, 20000)}</pre>
        </details>
      )}
    </div>
  );
}

function Report({ vbase }: { vbase: string }) {
  const [report, setReport] = useState<SignedReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const href = apiUrl(`${vbase}/certification/report`);
  const toggle = async () => {
    if (open) return setOpen(false);
    setOpen(true);
    if (!report) {
      try {
        setReport(await api<SignedReport>(`${vbase}/certification/report`));
      } catch (err) {
        setError(err);
      }
    }
  };
  return (
    <div className="cert-report">
      <div className="row wrap">
        <a className="button" href={href} download data-testid="cert-report-download">
          Download the signed report
        </a>
        <button type="button" onClick={() => void toggle()} aria-expanded={open} data-testid="cert-report-view">
          {open ? "Hide the report" : "View the report"}
        </button>
      </div>
      <ErrorNote error={error} />
      {open && report && (
        <dl className="facts" data-testid="cert-report">
          <dt>Verdict</dt>
          <dd data-testid="cert-report-verdict">{report.document.verdict}</dd>
          <dt>Blueprint</dt>
          <dd>
            {report.document.tenant}/{report.document.blueprint} {report.document.version}
          </dd>
          <dt>Compiler</dt>
          <dd>{report.document.compiler}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(report.document.finished_at)}</dd>
          <dt>Signed by</dt>
          <dd>
            {report.signer.alg} key <code data-testid="cert-report-key">{report.signer.key_id}</code>
          </dd>
          <dt>Check it</dt>
          <dd>
            <code>aiot cert verify report.json</code>
          </dd>
        </dl>
      )}
    </div>
  );
}
