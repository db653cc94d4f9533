// The node-type registry, fetched once per page load.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Registry } from "./types";

let cached: Promise<Registry> | null = null;

export function loadRegistry(): Promise<Registry> {
  if (!cached) {
    cached = api<Registry>("/node-types").catch((err) => {
      cached = null;
      throw err;
    });
  }
  return cached;
}

export function useRegistry(): { registry: Registry | null; error: unknown } {
  const [registry, setRegistry] = useState<Registry | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    loadRegistry().then(
      (r) => live && setRegistry(r),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, []);
  return { registry, error };
}
