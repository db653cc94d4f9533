// The live WebSocket, /ws/live/?tenant=: one connection per tenant, reconnecting with backoff;
// components subscribe to the message types they show.
import { createContext, useContext, useEffect, useRef, useState } from "react";
import type { LiveMessage } from "./types";

type Listener = (msg: LiveMessage) => void;
export type LiveState = "connecting" | "open" | "closed";

interface LiveValue {
  state: LiveState;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveValue>({ state: "closed", subscribe: () => () => {} });

export function liveUrl(tenant: string): string {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${window.location.host}/ws/live/?tenant=${encodeURIComponent(tenant)}`;
}

export function LiveProvider({ tenant, children }: { tenant: string; children: React.ReactNode }) {
  const [state, setState] = useState<LiveState>("connecting");
  const listeners = useRef(new Set<Listener>());
  const [value] = useState<Omit<LiveValue, "state">>(() => ({
    subscribe: (l: Listener) => {
      listeners.current.add(l);
      return () => listeners.current.delete(l);
    },
  }));

  useEffect(() => {
    if (!tenant || typeof WebSocket === "undefined") return;
    let ws: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let stopped = false;
    const connect = () => {
      setState("connecting");
      ws = new WebSocket(liveUrl(tenant));
      ws.onopen = () => {
        attempts = 0;
        setState("open");
      };
      ws.onmessage = (ev) => {
        let msg: LiveMessage;
        try {
          msg = JSON.parse(ev.data as string);
        } catch {
          return;
        }
        if (msg.tenant && msg.tenant !== tenant) return;
        for (const l of listeners.current) l(msg);
      };
      ws.onclose = () => {
        setState("closed");
        if (stopped) return;
        attempts += 1;
        timer = setTimeout(connect, Math.min(30000, 1000 * 2 ** Math.min(attempts, 5)));
      };
      ws.onerror = () => ws?.close();
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      if (ws) {
        ws.onclose = null;
        ws.close();
      }
    };
  }, [tenant]);

  return <LiveContext.Provider value={{ state, subscribe: value.subscribe }}>{children}</LiveContext.Provider>;
}

export function useLiveState(): LiveState {
  return useContext(LiveContext).state;
}

/** Calls `handler` for each live message of the given types (the latest handler is used). */
export function useLive(types: string[], handler: (msg: LiveMessage) => void): void {
  const { subscribe } = useContext(LiveContext);
  const ref = useRef(handler);
  ref.current = handler;
  const key = types.join(",");
  useEffect(
    () =>
      subscribe((msg) => {
        if (key.split(",").includes(msg.type)) ref.current(msg);
      }),
    [subscribe, key],
  );
}
