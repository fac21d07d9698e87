// A small inline SVG line chart of a series of numbers (focus scores per frame): no axes, the last point
// marked, the values' range in the tooltip.

const kSvg = 'http://www.w3.org/2000/svg';

export function sparkline(values: number[], width = 120, height = 28, alertIndexes: Set<number> = new Set()): SVGSVGElement {
  const svg = document.createElementNS(kSvg, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.classList.add('sparkline');
  if (values.length === 0) return svg;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i: number): number => (values.length === 1 ? width / 2 : (i / (values.length - 1)) * (width - 4) + 2);
  const y = (v: number): number => height - 3 - ((v - min) / span) * (height - 6);
  const line = document.createElementNS(kSvg, 'polyline');
  line.setAttribute('points', values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  values.forEach((v, i) => {
    if (i !== values.length - 1 && !alertIndexes.has(i)) return;
    const dot = document.createElementNS(kSvg, 'circle');
    dot.setAttribute('cx', x(i).toFixed(1));
    dot.setAttribute('cy', y(v).toFixed(1));
    dot.setAttribute('r', '2.5');
    dot.setAttribute('fill', alertIndexes.has(i) ? '#c62828' : 'currentColor');
    svg.append(dot);
  });
  const title = document.createElementNS(kSvg, 'title');
  title.textContent = `${values.length} frames, focus ${min.toExponential(2)} … ${max.toExponential(2)}`;
  svg.append(title);
  return svg;
}
