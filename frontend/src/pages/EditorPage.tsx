// The rule editor for one blueprint version.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useBlocker, useNavigate, useParams } from "react-router-dom";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { api, tenantPath } from "../api/client";
import type { BlueprintVersion } from "../api/types";
import { useTenant } from "../auth/session";
import { ErrorNote, Modal, Spinner, StateBadge, formatTime } from "../components/ui";
import { stableJson } from "../graph/diff";
import { useRegistry } from "../registry/useRegistry";
import { BlueprintPanel } from "../editor/BlueprintPanel";
import { Canvas, FIT_VIEW } from "../editor/Canvas";
import { CompileDialog } from "../editor/CompileDialog";
import { clearDraft, loadDraft, saveDraft, type Draft } from "../editor/drafts";
import { NodeInspector } from "../editor/Inspector";
import { Palette } from "../editor/Palette";
import { ProblemsList } from "../editor/ProblemsList";
import { ReplayPanel } from "../editor/ReplayPanel";
import { editorStore, isDirty, useEditor, type ClipboardPayload } from "../editor/store";
import { useValidation } from "../editor/useValidation";

const CLIPBOARD_KEY = "aiot.clipboard.v1";

function readClipboard(): ClipboardPayload | null {
  try {
    const raw = localStorage.getItem(CLIPBOARD_KEY);
    return raw ? (JSON.parse(raw) as ClipboardPayload) : null;
  } catch {
    return null;
  }
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el?.closest?.('input, textarea, select, [contenteditable="true"]');
}

type Tab = "node" | "blueprint" | "problems";

export function EditorPage() {
  return (
    <ReactFlowProvider>
      <EditorScreen />
    </ReactFlowProvider>
  );
}

function EditorScreen() {
  const { slug = "", version = "" } = useParams();
  const { tenant, can } = useTenant();
  const navigate = useNavigate();
  const { registry, error: registryError } = useRegistry();
  const [loaded, setLoaded] = useState<BlueprintVersion | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [tab, setTab] = useState<Tab>("blueprint");
  const [replayOpen, setReplayOpen] = useState(false);
  const [compileOpen, setCompileOpen] = useState(false);
  const [paletteOpen, setPaletteOpen] = useState(() => typeof window === "undefined" || window.innerWidth > 900);
  const loadedFor = useRef<string | null>(null);
  const { fitView, screenToFlowPosition } = useReactFlow();
  const readOnly = !can("edit");

  const dirty = useEditor(isDirty);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const problemCount = useEditor((s) => s.problems.length);
  const selectedNode = useEditor((s) => {
    const sel = s.nodes.filter((n) => n.selected);
    return sel.length === 1 ? sel[0] : null;
  });
  const validating = useValidation(!!loaded);

  // Load the version (unless it is the one we just saved and already show).
  useEffect(() => {
    if (!registry) return;
    editorStore.getState().setRegistry(registry);
    const key = `${tenant}/${slug}/${version}`;
    if (loadedFor.current === key) return;
    let live = true;
    setLoaded(null);
    setLoadError(null);
    api<BlueprintVersion>(tenantPath(tenant, `/blueprints/${encodeURIComponent(slug)}/versions/${encodeURIComponent(version)}/`)).then(
      (v) => {
        if (!live) return;
        loadedFor.current = key;
        editorStore.getState().load({ graph: v.graph, readme: v.readme ?? "", scenarios: v.scenarios ?? [] });
        setLoaded(v);
        const d = loadDraft(tenant, slug);
        const current = stableJson({ g: editorStore.getState().toGraph(), r: v.readme ?? "", s: v.scenarios ?? [] });
        setDraft(d && stableJson({ g: d.graph, r: d.readme, s: d.scenarios }) !== current ? d : null);
        if (v.graph?.nodes?.length) requestAnimationFrame(() => void fitView(FIT_VIEW));
      },
      (err) => live && setLoadError(err),
    );
    return () => {
      live = false;
    };
  }, [registry, tenant, slug, version, fitView]);

  // Keep unsaved work in localStorage: shortly after each edit, and at once when the editor goes
  // away (leaving, another version) or the page is hidden or closed, so the last edits are kept too.
  useEffect(() => {
    if (!loaded) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    const flush = () => {
      clearTimeout(timer);
      if (!pending) return;
      pending = false;
      const st = editorStore.getState();
      if (!isDirty(st)) return;
      saveDraft(tenant, slug, { baseVersion: loaded.version, graph: st.toGraph(), readme: st.readme, scenarios: st.scenarios, savedAt: Date.now() });
    };
    const unsubscribe = editorStore.subscribe((s, prev) => {
      if (s.editRevision === prev.editRevision || !isDirty(s)) return;
      pending = true;
      clearTimeout(timer);
      timer = setTimeout(flush, 500);
    });
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      unsubscribe();
      flush();
    };
  }, [loaded, tenant, slug]);

  // Warn before the tab closes with unsaved changes.
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [dirty]);

  // …and before the app navigates away.
  const allowLeave = useRef(false);
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) =>
      !allowLeave.current && isDirty(editorStore.getState()) && currentLocation.pathname !== nextLocation.pathname,
  );

  useEffect(() => {
    if (selectedNode) setTab((t) => (t === "problems" ? t : "node"));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedNode?.id]);

  const save = useCallback(async () => {
    if (readOnly || saving) return;
    setSaving(true);
    setSaveError(null);
    const st = editorStore.getState();
    const revision = st.editRevision;
    try {
      const created = await api<BlueprintVersion>(tenantPath(tenant, `/blueprints/${encodeURIComponent(slug)}/versions/`), {
        method: "POST",
        body: { graph: st.toGraph(), readme: st.readme, scenarios: st.scenarios, base_version: loaded?.version ?? version },
      });
      if (editorStore.getState().editRevision === revision) editorStore.getState().markSaved();
      clearDraft(tenant, slug);
      setDraft(null);
      setLoaded(created);
      loadedFor.current = `${tenant}/${slug}/${created.version}`;
      allowLeave.current = true;
      navigate(`/t/${tenant}/blueprints/${slug}/edit/${created.version}`, { replace: true });
      allowLeave.current = false;
    } catch (err) {
      setSaveError(err);
    } finally {
      setSaving(false);
    }
  }, [readOnly, saving, tenant, slug, loaded, version, navigate]);

  const addAtCenter = useCallback(
    (type: string) => {
      const rect = document.querySelector('[data-testid="canvas"]')?.getBoundingClientRect();
      const center = rect ? screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 }) : { x: 0, y: 0 };
      const n = editorStore.getState().nodes.length;
      editorStore.getState().addNode(type, { x: center.x - 90 + (n % 5) * 12, y: center.y - 30 + (n % 5) * 12 });
    },
    [screenToFlowPosition],
  );

  // Keyboard: undo/redo, copy/paste, delete, save.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const s = editorStore.getState();
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === "s") {
        e.preventDefault();
        void save();
        return;
      }
      if (readOnly) {
        if (mod && k === "c") {
          const c = s.copySelection();
          if (c) localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(c));
        }
        return;
      }
      if (mod && k === "z") {
        e.preventDefault();
        if (e.shiftKey) s.redo();
        else s.undo();
      } else if (mod && k === "y") {
        e.preventDefault();
        s.redo();
      } else if (mod && k === "c") {
        const c = s.copySelection();
        if (c) localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(c));
      } else if (mod && k === "v") {
        const c = readClipboard();
        if (c) {
          e.preventDefault();
          s.paste(c);
        }
      } else if (k === "delete" || k === "backspace") {
        e.preventDefault();
        s.deleteSelected();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [readOnly, save]);

  if (registryError || loadError) {
    return (
      <div className="page">
        <ErrorNote error={registryError || loadError} />
        <Link to={`/t/${tenant}/blueprints/${slug}`}>Back to the blueprint</Link>
      </div>
    );
  }
  if (!registry || !loaded) return <Spinner label="Loading the editor…" />;

  const s = editorStore.getState();
  return (
    <div className={`editor${paletteOpen ? "" : " palette-closed"}${replayOpen ? " with-replay" : ""}`}>
      <div className="toolbar" role="toolbar" aria-label="Editor">
        <Link to={`/t/${tenant}/blueprints/${slug}`} className="crumb">
          ← {slug}
        </Link>
        <span className="version">
          v{loaded.version} <StateBadge state={loaded.state} />
        </span>
        <span className={`save-state${dirty ? " dirty" : ""}`} data-testid="save-state">
          {dirty ? "Unsaved changes" : "Saved"}
        </span>
        <span className="spacer" />
        <button type="button" className="icon-text" onClick={() => setPaletteOpen(!paletteOpen)} aria-pressed={paletteOpen} data-testid="toggle-palette">
          Nodes
        </button>
        <button type="button" onClick={() => s.undo()} disabled={!canUndo || readOnly} title="Undo (Ctrl+Z)" data-testid="undo-button">
          Undo
        </button>
        <button type="button" onClick={() => s.redo()} disabled={!canRedo || readOnly} title="Redo (Ctrl+Shift+Z)" data-testid="redo-button">
          Redo
        </button>
        <button
          type="button"
          onClick={() => {
            s.autoLayout();
            setTimeout(() => void fitView({ ...FIT_VIEW, duration: 300 }), 30);
          }}
          disabled={readOnly}
          data-testid="layout-button"
        >
          Auto-layout
        </button>
        <button type="button" onClick={() => void fitView({ ...FIT_VIEW, duration: 300 })} data-testid="fit-button">
          Fit
        </button>
        {can("edit") && (
          <button type="button" onClick={() => setReplayOpen(!replayOpen)} aria-pressed={replayOpen} data-testid="replay-button">
            Replay
          </button>
        )}
        {can("edit") && (
          <button
            type="button"
            onClick={() => setCompileOpen(true)}
            disabled={dirty}
            title={dirty ? "Save first: compiling uses the saved version" : "Compile this version into an edge bundle"}
            data-testid="compile-button"
          >
            Compile
          </button>
        )}
        {can("edit") && (
          <button
            type="button"
            className="primary"
            onClick={() => void save()}
            disabled={saving || !dirty}
            title="Save as a new draft version (Ctrl+S)"
            data-testid="save-button"
          >
            {saving ? "Saving…" : "Save"}
          </button>
        )}
      </div>
      {draft && (
        <div className="notice warn draft-banner" data-testid="draft-banner">
          <span>
            Unsaved changes from {formatTime(draft.savedAt)} (based on v{draft.baseVersion}) are kept in this browser.
          </span>
          <button
            type="button"
            onClick={() => {
              editorStore.getState().load({ graph: draft.graph, readme: draft.readme, scenarios: draft.scenarios });
              editorStore.setState({ savedRevision: -1 });
              setDraft(null);
            }}
            data-testid="draft-restore"
          >
            Restore them
          </button>
          <button
            type="button"
            className="link"
            onClick={() => {
              clearDraft(tenant, slug);
              setDraft(null);
            }}
            data-testid="draft-discard"
          >
            Discard
          </button>
        </div>
      )}
      <ErrorNote error={saveError} onDismiss={() => setSaveError(null)} />
      {paletteOpen && <Palette registry={registry} onAdd={addAtCenter} disabled={readOnly} />}
      <Canvas readOnly={readOnly} compact={replayOpen} />
      <aside className="side" aria-label="Details">
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={tab === "node"} onClick={() => setTab("node")} data-testid="tab-node">
            Node
          </button>
          <button type="button" role="tab" aria-selected={tab === "blueprint"} onClick={() => setTab("blueprint")} data-testid="tab-blueprint">
            Blueprint
          </button>
          <button type="button" role="tab" aria-selected={tab === "problems"} onClick={() => setTab("problems")} data-testid="tab-problems">
            Problems{" "}
            {problemCount > 0 && (
              <span className="count" data-testid="problem-count">
                {problemCount}
              </span>
            )}
          </button>
        </div>
        <div className="tab-body" role="tabpanel">
          {tab === "node" &&
            (selectedNode ? (
              <NodeInspector key={selectedNode.id} node={selectedNode} readOnly={readOnly} />
            ) : (
              <p className="muted">Select a node to edit its settings. Drag node types from the palette, or press one to add it.</p>
            ))}
          {tab === "blueprint" && <BlueprintPanel readOnly={readOnly} tenant={can("edit") ? tenant : undefined} />}
          {tab === "problems" && <ProblemsList validating={validating} />}
        </div>
      </aside>
      {replayOpen && <ReplayPanel tenant={tenant} onClose={() => setReplayOpen(false)} />}
      {compileOpen && <CompileDialog tenant={tenant} slug={slug} version={loaded.version} onClose={() => setCompileOpen(false)} />}
      {blocker.state === "blocked" && (
        <Modal title="Leave the editor?" onClose={() => blocker.reset()} testId="leave-dialog">
          <p>You have unsaved changes. They stay in this browser as a draft, and the editor offers them back next time.</p>
          <div className="actions">
            <button type="button" onClick={() => blocker.reset()} data-testid="leave-stay">
              Stay
            </button>
            <button type="button" className="danger" onClick={() => blocker.proceed()} data-testid="leave-go">
              Leave
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}
