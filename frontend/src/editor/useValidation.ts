// Validation as you edit: a debounced POST /api/v1/validate after each change of what the graph
// computes; the problems go to the store, where nodes and the problems list read them.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Problem } from "../api/types";
import { editorStore } from "./store";

export const VALIDATE_DEBOUNCE_MS = 400;

export function useValidation(enabled: boolean): boolean {
  const [validating, setValidating] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let seq = 0;
    let controller: AbortController | null = null;
    const run = () => {
      const mine = ++seq;
      controller?.abort();
      controller = new AbortController();
      setValidating(true);
      api<{ problems: Problem[] }>("/validate", {
        method: "POST",
        body: { graph: editorStore.getState().toGraph() },
        signal: controller.signal,
      })
        .then((r) => mine === seq && editorStore.getState().setProblems(r.problems ?? []))
        .catch((err) => {
          if ((err as Error).name !== "AbortError") console.warn("validation failed", err);
        })
        .finally(() => mine === seq && setValidating(false));
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(run, VALIDATE_DEBOUNCE_MS);
    };
    const unsubscribe = editorStore.subscribe((s, prev) => {
      if (s.revision !== prev.revision) schedule();
    });
    if (editorStore.getState().nodes.length) schedule();
    return () => {
      unsubscribe();
      clearTimeout(timer);
      controller?.abort();
    };
  }, [enabled]);
  return validating;
}
