import { escapeHtml } from '../../shadow/index.js';

/** One line of a chart; a `null` y is a gap (the interval had no figure for it). */
export interface ChartSeries {
  name: string;
  color: string;
  points: Array<{ x: number; y: number | null; title?: string }>;
}

export interface ChartOptions {
  title: string;
  /** Appended to the axis labels and point titles ("ms", "%"). */
  unit?: string;
  yMin?: number;
  yMax?: number;
  /** Horizontal reference lines (thresholds), dashed. */
  rules?: Array<{ y: number; label: string; color: string }>;
  width?: number;
  height?: number;
}

const PAD = { left: 44, right: 10, top: 22, bottom: 20 };
const fmt = (n: number) => (Math.abs(n) >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toPrecision(3));

/**
 * A dependency-free line chart as an inline SVG string: time on x (the points' x, ms), one
 * polyline per series, a dot per point carrying its own `<title>`, dashed rules for thresholds.
 * Pure, so the page's charts are unit-tested as text.
 */
export function lineChart(series: ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 360;
  const height = options.height ?? 150;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const all = series.flatMap((s) => s.points);
  const ys = [...all.flatMap((p) => (p.y === null ? [] : [p.y])), ...(options.rules ?? []).map((r) => r.y)];
  const xs = all.map((p) => p.x);
  const yMin = options.yMin ?? Math.min(0, ...ys);
  let yMax = options.yMax ?? Math.max(...ys, yMin + 1e-9);
  if (yMax <= yMin) yMax = yMin + 1;
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const sx = (x: number) => PAD.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => PAD.top + plotH - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * plotH;
  const unit = options.unit ? ` ${options.unit}` : '';
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">`,
    `<title>${escapeHtml(options.title)}</title>`,
    `<text x="${PAD.left}" y="14" class="chart-title">${escapeHtml(options.title)}</text>`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + 4}" text-anchor="end" class="axis">${fmt(yMax)}${escapeHtml(unit)}</text>`,
    `<text x="${PAD.left - 4}" y="${PAD.top + plotH}" text-anchor="end" class="axis">${fmt(yMin)}${escapeHtml(unit)}</text>`,
  ];
  if (xs.length) {
    const span = Math.round((xMax - xMin) / 1000);
    out.push(`<text x="${PAD.left + plotW}" y="${height - 4}" text-anchor="end" class="axis">${span} s</text>`);
  }
  for (const rule of options.rules ?? []) {
    const y = sy(rule.y).toFixed(1);
    out.push(
      `<line class="rule" x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="${rule.color}" stroke-dasharray="4 3"><title>${escapeHtml(rule.label)}</title></line>`,
    );
  }
  for (const s of series) {
    // Consecutive non-null points form one segment; a gap breaks the line.
    const segments: string[][] = [[]];
    for (const p of s.points) {
      if (p.y === null) segments.push([]);
      else segments.at(-1)!.push(`${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    }
    for (const seg of segments.filter((g) => g.length > 1)) {
      out.push(`<polyline data-series="${escapeHtml(s.name)}" fill="none" stroke="${s.color}" stroke-width="1.5" points="${seg.join(' ')}"/>`);
    }
    for (const p of s.points) {
      if (p.y === null) continue;
      const title = p.title ?? `${s.name}: ${fmt(p.y)}${unit}`;
      out.push(`<circle data-series="${escapeHtml(s.name)}" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeHtml(title)}</title></circle>`);
    }
  }
  // Legend, top right.
  let lx = PAD.left + plotW;
  for (const s of [...series].reverse()) {
    out.push(`<text x="${lx}" y="14" text-anchor="end" class="legend" fill="${s.color}">■ ${escapeHtml(s.name)}</text>`);
    lx -= 12 + s.name.length * 6.5;
  }
  out.push('</svg>');
  return out.join('');
}
