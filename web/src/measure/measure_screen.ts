// The measurement screen (#/measure/:imageId): the image's measured objects (tessera measure, pipelines,
// imports) as a sortable table of their features, a histogram of one feature or a scatter plot of two, and
// a click on a point, a bar's object or a row opens the object in the viewer.

import '../viewer/viewer.css';
import { api } from '../api';
import { h } from '../dom';
import { navigate } from '../router';
import type { RouteParams } from '../router';
import type { ImageDetail } from '../types';
import { histogramBins, histogramSvg, scatterSvg } from './charts';

export interface MeasuredObject {
  id: number;
  image_id: number;
  frame_index: number;
  label: number | null;
  bbox: [number, number, number, number];
  tag_id: number | null;
  features: Record<string, unknown>;
}

// Feature names whose values are numbers in at least one object, in first-seen order.
export function numericFeatures(objects: MeasuredObject[]): string[] {
  const names: string[] = [];
  for (const o of objects) {
    for (const [name, value] of Object.entries(o.features ?? {})) {
      if (typeof value === 'number' && !names.includes(name)) names.push(name);
    }
  }
  return names;
}

function featureValue(o: MeasuredObject, name: string): number {
  const value = o.features?.[name];
  return typeof value === 'number' ? value : NaN;
}

function openInViewer(o: MeasuredObject): void {
  navigate(`#/viewer/${o.image_id}?box=${o.bbox.join(',')}&object=${o.id}${o.frame_index > 0 ? `&frame=${o.frame_index}` : ''}`);
}

export async function renderMeasure(outlet: HTMLElement, params: RouteParams): Promise<void> {
  const imageId = Number(params.imageId);
  if (!Number.isInteger(imageId) || imageId <= 0) throw new Error(`measurements: '${params.imageId}' is not an image id`);
  const [image, answer] = await Promise.all([
    api.get<ImageDetail>(`/api/v1/images/${imageId}`),
    api.get<{ objects: MeasuredObject[]; truncated: boolean }>(`/api/v1/images/${imageId}/objects`, { limit: 10000 }),
  ]);
  const objects = answer.objects;
  const features = numericFeatures(objects);
  const page = h('div', { class: 'measure-page' },
    h('div', { class: 'control-row' },
      h('h3', { style: 'margin:0' }, `Measurements of ${image.source_path}`),
      h('a', { href: `#/viewer/${imageId}` }, 'Open in the viewer'),
      h('span', { class: 'muted small', dataset: { testid: 'object-count' } },
        `${objects.length} object(s)${answer.truncated ? ' (first 10,000)' : ''}, ${features.length} numeric feature(s)`)));
  outlet.append(page);
  if (objects.length === 0) {
    page.append(h('p', { class: 'muted' }, 'No measured objects on this image yet: run `tessera measure --set ...` or a pipeline that stores objects.'));
    return;
  }

  const modeSelect = h('select', { dataset: { testid: 'chart-mode' } },
    h('option', { value: 'scatter' }, 'Scatter'), h('option', { value: 'histogram' }, 'Histogram')) as HTMLSelectElement;
  const featureSelect = (testid: string, initial: number) => h('select', { dataset: { testid } },
    ...features.map((f, i) => h('option', { value: f, selected: i === initial }, f))) as HTMLSelectElement;
  const xSelect = featureSelect('feature-x', 0);
  const ySelect = featureSelect('feature-y', Math.min(1, features.length - 1));
  const chartHolder = h('div', { class: 'measure-chart', dataset: { testid: 'measure-chart' } });
  const picked = new Set<number>();
  const table = h('table', { class: 'objects-table', dataset: { testid: 'objects-table' } });
  let sortKey = 'id';
  let sortDescending = false;

  const drawChart = () => {
    ySelect.hidden = modeSelect.value !== 'scatter';
    const x = xSelect.value, y = ySelect.value;
    const byId = new Map(objects.map((o) => [o.id, o]));
    const svg = modeSelect.value === 'histogram'
      ? histogramSvg(histogramBins(objects.map((o) => ({ id: o.id, value: featureValue(o, x) })), 20), x, (ids) => {
          picked.clear();
          ids.forEach((id) => picked.add(id));
          drawTable();
        })
      : scatterSvg(objects.map((o) => ({ id: o.id, x: featureValue(o, x), y: featureValue(o, y) })), x, y, (id) => {
          const o = byId.get(id);
          if (o) openInViewer(o);
        });
    chartHolder.replaceChildren(svg);
  };

  const drawTable = () => {
    const rows = [...objects].sort((a, b) => {
      const va = sortKey === 'id' ? a.id : sortKey === 'label' ? a.label ?? NaN : featureValue(a, sortKey);
      const vb = sortKey === 'id' ? b.id : sortKey === 'label' ? b.label ?? NaN : featureValue(b, sortKey);
      const order = (Number.isNaN(va) ? Infinity : va) - (Number.isNaN(vb) ? Infinity : vb);
      return sortDescending ? -order : order;
    });
    const header = (key: string) => h('th', { onclick: () => {
      sortDescending = sortKey === key ? !sortDescending : false;
      sortKey = key;
      drawTable();
    } }, key + (sortKey === key ? (sortDescending ? ' ▼' : ' ▲') : ''));
    table.replaceChildren(
      h('thead', {}, h('tr', {}, header('id'), header('label'), h('th', {}, 'frame'), h('th', {}, 'bbox'), ...features.map(header))),
      h('tbody', {}, ...rows.map((o) => h('tr', {
        class: picked.has(o.id) ? 'picked' : '', title: 'open in the viewer', style: 'cursor:pointer',
        dataset: { objectId: String(o.id) }, onclick: () => openInViewer(o),
      }, h('td', {}, o.id), h('td', {}, o.label ?? ''), h('td', {}, o.frame_index), h('td', {}, o.bbox.join(',')),
        ...features.map((f) => h('td', {}, formatCell(featureValue(o, f))))))));
  };

  for (const select of [modeSelect, xSelect, ySelect]) select.addEventListener('change', drawChart);
  page.append(
    h('div', { class: 'control-row' }, 'Chart', modeSelect, 'x', xSelect, ySelect),
    h('div', { class: 'measure-charts' }, chartHolder),
    h('div', { class: 'table-wrap' }, table));
  drawChart();
  drawTable();
}

function formatCell(value: number): string {
  if (Number.isNaN(value)) return '';
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
