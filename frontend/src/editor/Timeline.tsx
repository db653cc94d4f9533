// A hand-rolled SVG timeline: one row per chosen node, the actions marked across all rows.
import { useMemo } from "react";
import type { ActionRecord, SeriesPoint, SeriesValue } from "../api/types";
import { formatValue } from "../components/ui";

const W = 960;
const LEFT = 130;
const RIGHT = 16;
const ROW = 64;
const MARKER_ROOM = 24;
/** a marker's triangle, and the vertical step between stacked ones */
const MARKER_STEP = 13;
const AXIS = 22;

const KEY_COLORS = ["#2f6fde", "#0e9384", "#b54708", "#7a5af8", "#c4320a", "#9e165f", "#475467"];

type Point = { ts: number; key: string; value: SeriesValue };

export function normalizePoints(points: SeriesPoint[]): Point[] {
  return points.map((p) => (p.length === 3 ? { ts: p[0], key: String(p[1]), value: p[2] } : { ts: p[0], key: "", value: p[1] }));
}

interface Row {
  node: string;
  points: Point[];
  keys: string[];
  kind: "number" | "bool" | "category";
  levels: string[];
  lo: number;
  hi: number;
}

function rowOf(node: string, raw: SeriesPoint[]): Row {
  const points = normalizePoints(raw);
  const keys = [...new Set(points.map((p) => p.key))];
  const vals = points.map((p) => p.value).filter((v) => v !== null);
  if (vals.length && vals.every((v) => typeof v === "boolean")) return { node, points, keys, kind: "bool", levels: [], lo: 0, hi: 1 };
  if (vals.some((v) => typeof v === "string")) {
    const levels = [...new Set(vals.map(String))].sort();
    return { node, points, keys, kind: "category", levels, lo: 0, hi: Math.max(1, levels.length - 1) };
  }
  const nums = vals.filter((v): v is number => typeof v === "number");
  let lo = nums.length ? Math.min(...nums) : 0;
  let hi = nums.length ? Math.max(...nums) : 1;
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  return { node, points, keys, kind: "number", levels: [], lo, hi };
}

/**
 * A stack level per action, so that actions close in time (an alert and the command of the same
 * event) get triangles one above the other instead of hiding each other.
 */
export function markerLevels(xs: number[], minGap = MARKER_STEP, maxLevels = 5): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const levels = new Array<number>(xs.length).fill(0);
  // the last x seen on each level
  const lastOn: number[] = [];
  for (const [x, i] of order) {
    let level = lastOn.findIndex((last) => x - last >= minGap);
    if (level === -1 && lastOn.length < maxLevels) level = lastOn.length;
    // a crowd: the level that has been free the longest
    if (level === -1) level = lastOn.indexOf(Math.min(...lastOn));
    lastOn[level] = x;
    levels[i] = level;
  }
  return levels;
}

function numeric(row: Row, v: SeriesValue): number | null {
  if (v === null) return null;
  if (row.kind === "bool") return v ? 1 : 0;
  if (row.kind === "category") return row.levels.indexOf(String(v));
  return typeof v === "number" ? v : null;
}

export function Timeline({
  series,
  records,
  selected,
  onPick,
}: {
  series: Record<string, SeriesPoint[]>;
  records: ActionRecord[];
  selected: number | null;
  onPick: (index: number) => void;
}) {
  const rows = useMemo(() => Object.entries(series).map(([n, pts]) => rowOf(n, pts)), [series]);
  const times = [...rows.flatMap((r) => r.points.map((p) => p.ts)), ...records.map((r) => r.ts)];
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = times.length ? Math.max(...times) : 1;
  const span = t1 - t0 || 1;
  const x = (t: number) => LEFT + ((t - t0) / span) * (W - LEFT - RIGHT);
  const levels = markerLevels(records.map((r) => x(r.ts)));
  const TOP = MARKER_ROOM + MARKER_STEP * Math.max(0, ...levels);
  const H = TOP + rows.length * ROW + AXIS;
  const ticks = Array.from({ length: 6 }, (_, i) => t0 + (span * i) / 5);

  return (
    <svg className="timeline" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Replay timeline" data-testid="timeline">
      {rows.map((row, i) => {
        const yTop = TOP + i * ROW + 8;
        const h = ROW - 16;
        const y = (v: number) => yTop + h - ((v - row.lo) / (row.hi - row.lo)) * h;
        // one line per key (e.g. per forklift), in the order the keys first appear
        const paths = row.keys.map((key) => {
          let d = "";
          let pen = false;
          for (const p of row.points) {
            if (p.key !== key) continue;
            const n = numeric(row, p.value);
            if (n === null) {
              pen = false;
              continue;
            }
            const px = x(p.ts).toFixed(1);
            const py = y(n).toFixed(1);
            if (!pen) d += `M${px},${py}`;
            else if (row.kind !== "number") d += `H${px}V${py}`;
            else d += `L${px},${py}`;
            pen = true;
          }
          return d;
        });
        const colorOf = (key: string) => KEY_COLORS[row.keys.indexOf(key) % KEY_COLORS.length];
        return (
          <g key={row.node} className={`tl-row tl-${row.kind}`} data-testid={`series-${row.node}`}>
            <rect x={LEFT} y={TOP + i * ROW} width={W - LEFT - RIGHT} height={ROW} className="tl-band" />
            <text x={8} y={TOP + i * ROW + ROW / 2} className="tl-label">
              {row.node}
            </text>
            <text x={LEFT - 6} y={yTop + 8} className="tl-scale" textAnchor="end">
              {row.kind === "bool" ? "true" : row.kind === "category" ? row.levels[row.levels.length - 1] ?? "" : formatValue(row.hi)}
            </text>
            <text x={LEFT - 6} y={yTop + h} className="tl-scale" textAnchor="end">
              {row.kind === "bool" ? "false" : row.kind === "category" ? row.levels[0] ?? "" : formatValue(row.lo)}
            </text>
            {row.keys.length > 1 && (
              <text x={8} y={TOP + i * ROW + ROW / 2 + 13} className="tl-scale">
                {row.keys.length} keys
              </text>
            )}
            {paths.map((d, k) => (
              <path key={row.keys[k]} d={d} className="tl-line" style={{ stroke: row.keys.length > 1 ? colorOf(row.keys[k]) : undefined }} />
            ))}
            {row.points.map((p, k) => {
              const n = numeric(row, p.value);
              return n === null ? (
                <circle key={k} cx={x(p.ts)} cy={yTop + h} r={2} className="tl-missing" />
              ) : (
                <circle key={k} cx={x(p.ts)} cy={y(n)} r={2.2} className="tl-dot" style={{ fill: row.keys.length > 1 ? colorOf(p.key) : undefined }}>
                  <title>{`${new Date(p.ts).toISOString()}${p.key ? ` · ${p.key}` : ""} · ${formatValue(p.value)}`}</title>
                </circle>
              );
            })}
          </g>
        );
      })}
      {ticks.map((t, i) => (
        <text key={i} x={x(t)} y={H - 6} className="tl-tick" textAnchor={i === 0 ? "start" : i === 5 ? "end" : "middle"}>
          {i === 0 ? new Date(t).toLocaleTimeString() : `+${((t - t0) / 1000).toFixed(span < 10000 ? 1 : 0)} s`}
        </text>
      ))}
      {records.map((r, i) => {
        const px = x(r.ts);
        const tip = TOP - 5 - MARKER_STEP * levels[i];
        const cls = r.kind === "alert" ? `sev-${r.severity ?? "warning"}` : "command";
        return (
          <g
            key={i}
            className={`tl-marker ${cls}${selected === i ? " picked" : ""}`}
            role="button"
            tabIndex={0}
            aria-label={`${r.kind} ${r.name ?? r.action} at ${new Date(r.ts).toISOString()}`}
            onClick={() => onPick(i)}
            onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && onPick(i)}
            data-testid={`alert-marker-${i}`}
          >
            <line x1={px} x2={px} y1={tip + 1} y2={TOP + rows.length * ROW} />
            <path d={`M${px - 6},${tip - 11} L${px + 6},${tip - 11} L${px},${tip} Z`} />
            <title>{`${r.name ?? r.topic ?? r.action} (${r.key})`}</title>
          </g>
        );
      })}
    </svg>
  );
}
