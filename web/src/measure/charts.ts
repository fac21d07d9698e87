// Histogram and scatter plot as plain SVG (no chart library): a few hundred to a few thousand objects are
// drawn as circles and rectangles, each carrying the object ids it stands for so a click can jump to them.

const kSvgNs = 'http://www.w3.org/2000/svg';
const kWidth = 520;
const kHeight = 320;
const kMargin = { left: 56, right: 16, top: 12, bottom: 40 };

export interface Point2 {
  id: number;
  x: number;
  y: number;
}

export interface HistogramBin {
  low: number;
  high: number;
  ids: number[];
}

// Equal-width bins over [min, max] of the finite values; the last bin includes max.
export function histogramBins(values: Array<{ id: number; value: number }>, binCount: number): HistogramBin[] {
  const finite = values.filter((v) => Number.isFinite(v.value));
  if (finite.length === 0 || binCount < 1) return [];
  let min = Infinity, max = -Infinity;
  for (const v of finite) {
    min = Math.min(min, v.value);
    max = Math.max(max, v.value);
  }
  if (max === min) return [{ low: min, high: max, ids: finite.map((v) => v.id) }];
  const width = (max - min) / binCount;
  const bins: HistogramBin[] = Array.from({ length: binCount }, (_, i) => ({
    low: min + i * width,
    high: i === binCount - 1 ? max : min + (i + 1) * width,
    ids: [],
  }));
  for (const v of finite) {
    const index = Math.min(binCount - 1, Math.floor((v.value - min) / width));
    bins[index].ids.push(v.id);
  }
  return bins;
}

function svgElement<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(kSvgNs, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-2 ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

interface Axis {
  min: number;
  max: number;
  toScreen: (v: number) => number;
}

function axis(min: number, max: number, screenFrom: number, screenTo: number): Axis {
  const span = max > min ? max - min : 1;
  return { min, max, toScreen: (v) => screenFrom + ((v - min) / span) * (screenTo - screenFrom) };
}

function drawAxes(svg: SVGSVGElement, xAxis: Axis, yAxis: Axis, xLabel: string, yLabel: string): void {
  const left = kMargin.left, right = kWidth - kMargin.right, top = kMargin.top, bottom = kHeight - kMargin.bottom;
  svg.append(svgElement('line', { x1: left, y1: bottom, x2: right, y2: bottom, stroke: '#888' }));
  svg.append(svgElement('line', { x1: left, y1: top, x2: left, y2: bottom, stroke: '#888' }));
  for (let i = 0; i <= 4; ++i) {
    const xv = xAxis.min + ((xAxis.max - xAxis.min) * i) / 4;
    const tx = svgElement('text', { x: xAxis.toScreen(xv), y: bottom + 14, 'text-anchor': 'middle', 'font-size': 10 });
    tx.textContent = formatTick(xv);
    const yv = yAxis.min + ((yAxis.max - yAxis.min) * i) / 4;
    const ty = svgElement('text', { x: left - 4, y: yAxis.toScreen(yv) + 3, 'text-anchor': 'end', 'font-size': 10 });
    ty.textContent = formatTick(yv);
    svg.append(tx, ty);
  }
  const xl = svgElement('text', { x: (left + right) / 2, y: kHeight - 6, 'text-anchor': 'middle', 'font-size': 12 });
  xl.textContent = xLabel;
  const yl = svgElement('text', { x: 12, y: (top + bottom) / 2, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 12 ${(top + bottom) / 2})` });
  yl.textContent = yLabel;
  svg.append(xl, yl);
}

function newSvg(): SVGSVGElement {
  return svgElement('svg', { width: kWidth, height: kHeight, viewBox: `0 0 ${kWidth} ${kHeight}`, class: 'chart' });
}

// A histogram; clicking a bar calls onPick with the ids it counts.
export function histogramSvg(bins: HistogramBin[], feature: string, onPick: (ids: number[]) => void): SVGSVGElement {
  const svg = newSvg();
  if (bins.length === 0) return svg;
  const maxCount = Math.max(...bins.map((b) => b.ids.length));
  const xAxis = axis(bins[0].low, bins[bins.length - 1].high, kMargin.left, kWidth - kMargin.right);
  const yAxis = axis(0, maxCount, kHeight - kMargin.bottom, kMargin.top);
  drawAxes(svg, xAxis, yAxis, feature, 'objects');
  const barWidth = (kWidth - kMargin.left - kMargin.right) / bins.length;
  bins.forEach((bin, i) => {
    const top = yAxis.toScreen(bin.ids.length);
    const rect = svgElement('rect', {
      x: kMargin.left + i * barWidth + 1, y: top, width: Math.max(1, barWidth - 2), height: kHeight - kMargin.bottom - top,
      fill: '#4a90d9', class: 'bar', 'data-count': bin.ids.length,
    });
    const title = svgElement('title', {});
    title.textContent = `${formatTick(bin.low)} .. ${formatTick(bin.high)}: ${bin.ids.length}`;
    rect.append(title);
    rect.addEventListener('click', () => onPick(bin.ids));
    svg.append(rect);
  });
  return svg;
}

// A scatter plot; clicking a point calls onPick with its id.
export function scatterSvg(points: Point2[], xLabel: string, yLabel: string, onPick: (id: number) => void): SVGSVGElement {
  const svg = newSvg();
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (finite.length === 0) return svg;
  const xs = finite.map((p) => p.x), ys = finite.map((p) => p.y);
  const xAxis = axis(Math.min(...xs), Math.max(...xs), kMargin.left + 6, kWidth - kMargin.right - 6);
  const yAxis = axis(Math.min(...ys), Math.max(...ys), kHeight - kMargin.bottom - 6, kMargin.top + 6);
  drawAxes(svg, xAxis, yAxis, xLabel, yLabel);
  for (const p of finite) {
    const circle = svgElement('circle', {
      cx: xAxis.toScreen(p.x), cy: yAxis.toScreen(p.y), r: 4, fill: '#d9534f', 'fill-opacity': 0.7,
      class: 'point', 'data-object-id': p.id,
    });
    const title = svgElement('title', {});
    title.textContent = `object ${p.id}: ${formatTick(p.x)}, ${formatTick(p.y)}`;
    circle.append(title);
    circle.addEventListener('click', () => onPick(p.id));
    svg.append(circle);
  }
  return svg;
}
