// Alerts per hour as an inline SVG line plot: one line per series, a dot with a tooltip (<title>)
// for every hour that had alerts. No script and no external file, so it reads without JavaScript
// and under a CSP that allows neither.

import { html, type SafeHtml } from './html.js';
import { HOUR, type Volume } from './overview.js';

/** Okabe–Ito: told apart by colour-blind readers too. */
export const SERIES_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#555555', '#882255'];

export function seriesColour(index: number): string {
  return SERIES_COLOURS[index % SERIES_COLOURS.length] ?? '#555555';
}

export interface PlotText {
  /** the plot's accessible name */
  title: string;
  /** a series' name as the reader knows it */
  seriesLabel(name: string): string;
  /** the tooltip of a dot */
  pointLabel(series: string, hourStart: number, count: number): string;
  /** the label under an hour that starts a day, or null for other hours */
  dayLabel(hourStart: number): string | null;
}

const WIDTH = 960;
const HEIGHT = 260;
const LEFT = 40;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 34;

/** The smallest "round" number at or above `n` (1, 2, 5, 10, 20, 50 …), so the axis reads easily. */
function roundUp(n: number): number {
  if (n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= n) return step * magnitude;
  return 10 * magnitude;
}

const fixed = (n: number): string => n.toFixed(1);

export function volumePlot(volume: Volume, text: PlotText): SafeHtml {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const peak = roundUp(Math.max(0, ...volume.series.flatMap((s) => s.counts)));
  const x = (hour: number): number => LEFT + (hour * plotWidth) / Math.max(1, volume.hours - 1);
  const y = (count: number): number => TOP + plotHeight - (count / peak) * plotHeight;

  const ticks = peak === 1 ? [0, 1] : [0, peak / 2, peak];
  const grid = ticks.map(
    (tick) => html`<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fixed(y(tick))}" y2="${fixed(y(tick))}"/><text class="axis" x="${LEFT - 6}" y="${fixed(y(tick) + 4)}" text-anchor="end">${tick}</text>`,
  );
  const days = Array.from({ length: volume.hours }, (_, hour) => {
    const label = text.dayLabel(volume.start + hour * HOUR);
    return label === null
      ? null
      : html`<line class="day" x1="${fixed(x(hour))}" x2="${fixed(x(hour))}" y1="${TOP}" y2="${TOP + plotHeight}"/><text class="axis" x="${fixed(x(hour) + 3)}" y="${HEIGHT - BOTTOM + 16}">${label}</text>`;
  });
  const lines = volume.series.map((series, index) => {
    const colour = seriesColour(index);
    const points = series.counts.map((count, hour) => `${fixed(x(hour))},${fixed(y(count))}`).join(' ');
    const dots = series.counts.map((count, hour) =>
      count === 0
        ? null
        : html`<circle class="point" cx="${fixed(x(hour))}" cy="${fixed(y(count))}" r="3.5" fill="${colour}" data-series="${series.name}" data-count="${count}" data-hour="${new Date(volume.start + hour * HOUR).toISOString()}"><title>${text.pointLabel(text.seriesLabel(series.name), volume.start + hour * HOUR, count)}</title></circle>`,
    );
    return html`<g class="series" data-series="${series.name}"><polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>${dots}</g>`;
  });
  return html`<svg class="plot" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${text.title}" xmlns="http://www.w3.org/2000/svg"><title>${text.title}</title>${grid}${days}<line class="axis-line" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}"/>${lines}</svg>`;
}
