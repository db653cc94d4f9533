// Traces (SPEC §4): JSON lines of {"topic", "payload", "arrival_ms"?}, in arrival order.
import type { TraceLine } from "../api/types";

export interface TraceParse {
  lines: TraceLine[];
  errors: string[];
}

export function parseTrace(text: string): TraceParse {
  const lines: TraceLine[] = [];
  const errors: string[] = [];
  let lastArrival = -Infinity;
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      errors.push(`line ${n}: not JSON (${(err as Error).message})`);
      return;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj) || typeof (obj as TraceLine).topic !== "string") {
      errors.push(`line ${n}: expected an object with a string "topic"`);
      return;
    }
    const line = obj as TraceLine;
    if (line.arrival_ms !== undefined) {
      if (typeof line.arrival_ms !== "number") {
        errors.push(`line ${n}: "arrival_ms" must be a number`);
        return;
      }
      if (line.arrival_ms < lastArrival) {
        errors.push(`line ${n}: "arrival_ms" goes backwards`);
        return;
      }
      lastArrival = line.arrival_ms;
    }
    lines.push(line);
  });
  return { lines, errors };
}
