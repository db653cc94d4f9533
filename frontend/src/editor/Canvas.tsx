// The React Flow canvas, wired to the editor store.
import { useCallback, useRef, useState } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
} from "@xyflow/react";
import { editorStore, useEditor } from "./store";
import { nodeTypes } from "./RuleNode";
import { DRAG_MIME } from "./Palette";
import type { RuleFlowEdge, RuleFlowNode } from "../graph/flow";
import { checkConnection } from "../registry/ports";

/** How the editor fits the graph in view: never zoomed in beyond 1:1 for a small graph. */
export const FIT_VIEW = { padding: 0.15, maxZoom: 1 };

/** `compact`: the canvas shares the height with the replay panel; no mini map then, it would cover it. */
export function Canvas({ readOnly, compact = false }: { readOnly: boolean; compact?: boolean }) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  // Fit once, on a graph that has nodes. An empty canvas must not queue a fit: React Flow would
  // run it when the first node is dropped, zooming onto it and moving it away from the pointer.
  const [fitOnInit] = useState(() => editorStore.getState().nodes.length > 0);
  const { screenToFlowPosition } = useReactFlow();
  const [hint, setHint] = useState<string | null>(null);
  const lastHint = useRef<string | null>(null);

  const isValidConnection = useCallback((c: Connection | Edge) => {
    const s = editorStore.getState();
    if (!s.registry) return false;
    const verdict = checkConnection(s.registry, s.nodes, s.edges, c);
    const message = verdict.ok ? null : verdict.reason;
    if (message !== lastHint.current) {
      lastHint.current = message;
      setHint(message);
    }
    return verdict.ok;
  }, []);

  const onConnect = useCallback((c: Connection) => {
    const verdict = editorStore.getState().connect(c);
    setHint(verdict.ok ? null : verdict.reason);
  }, []);

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_MIME);
      if (!type || readOnly) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      editorStore.getState().addNode(type, { x: p.x - 90, y: p.y - 20 });
    },
    [screenToFlowPosition, readOnly],
  );

  return (
    <div className="canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<RuleFlowNode, RuleFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={(c) => editorStore.getState().onNodesChange(c)}
        onEdgesChange={(c) => editorStore.getState().onEdgesChange(c)}
        onConnect={onConnect}
        onConnectEnd={() => {
          lastHint.current = null;
          setTimeout(() => setHint(null), 2500);
        }}
        isValidConnection={isValidConnection}
        onNodeDragStart={() => editorStore.getState().checkpoint()}
        onSelectionDragStart={() => editorStore.getState().checkpoint()}
        deleteKeyCode={null}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        fitView={fitOnInit}
        fitViewOptions={FIT_VIEW}
        minZoom={0.1}
        maxZoom={2}
        defaultEdgeOptions={{ type: "smoothstep" }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} size={1} />
        {!compact && <MiniMap pannable zoomable ariaLabel="Mini map" />}
        <Controls showInteractive={false} />
      </ReactFlow>
      {hint && (
        <div className="canvas-hint" role="status" data-testid="connection-hint">
          {hint}
        </div>
      )}
    </div>
  );
}
