/** @jsxImportSource hono/jsx */
/**
 * A bar chart drawn by the node as inline SVG: no script and no external image, so it works
 * under the pages' strict Content-Security-Policy and reads the same with scripts off.
 */
import type { Child } from "hono/jsx";
import { intText } from "./layout.tsx";

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 56;
const BOTTOM = 22;

/** Bars of `values` (oldest first), grouped `per` to a bar, with a title and axis labels. */
export function BarChart(props: {
  label: string;
  values: readonly number[];
  per: number;
  unit: string;
  startLabel: string;
}): Child {
  const bars: number[] = [];
  for (let i = 0; i < props.values.length; i += props.per) {
    let sum = 0;
    for (let j = i; j < Math.min(props.values.length, i + props.per); j++) sum += props.values[j];
    bars.push(sum / props.per);
  }
  const max = Math.max(1, ...bars);
  const plotW = WIDTH - LEFT - 8;
  const plotH = HEIGHT - BOTTOM - 8;
  const barW = plotW / Math.max(1, bars.length);
  const total = props.values.reduce((a, b) => a + b, 0);
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${props.label}: ${intText(total)} in all, at most ${
          intText(max)
        } ${props.unit}`}
      >
        <line class="axis" x1={LEFT} y1={8} x2={LEFT} y2={8 + plotH} />
        <line class="axis" x1={LEFT} y1={8 + plotH} x2={WIDTH - 8} y2={8 + plotH} />
        <text x={LEFT - 6} y={14} text-anchor="end">{intText(max)}</text>
        <text x={LEFT - 6} y={8 + plotH} text-anchor="end">0</text>
        <text x={LEFT} y={HEIGHT - 6}>{props.startLabel}</text>
        <text x={WIDTH - 8} y={HEIGHT - 6} text-anchor="end">now</text>
        {bars.map((v, i) => {
          const h = (v / max) * plotH;
          return (
            <rect
              class="bar"
              x={(LEFT + i * barW + 0.5).toFixed(1)}
              y={(8 + plotH - h).toFixed(1)}
              width={Math.max(0.5, barW - 1).toFixed(1)}
              height={h.toFixed(1)}
            />
          );
        })}
      </svg>
      <figcaption>{props.label}</figcaption>
    </figure>
  );
}
