// Brush and eraser. A freehand stroke is rasterised as discs of the brush radius along its segments. The
// mask a stroke works on is the one selected in the list, else the topmost mask under the stroke's first
// point: painting over an accepted mask grows that mask instead of laying a second, overlapping object on it.
// The brush adds the stroke to that mask (or makes a new mask with the chosen tag and colour when the stroke
// starts off every mask); the eraser takes it out (deleting the mask when nothing is left). The result is
// written as a new version of the mask (If-Match), so a colleague's change is never overwritten.

import { h } from '../dom';
import { type Annotation, createAnnotation, deleteAnnotation, getAnnotationWithMask, patchAnnotation } from './annotation_api';
import type { AnnotateContext, Tool } from './context';
import { type ImagePoint, ShapeDrawer } from './draw_tool';
import { type BitMask, cropMask, decodeRle, encodeRle, setPixelsBox } from './rle';

type Box = [number, number, number, number];

// The stroke's pixels (pixel centres within `radius` of the polyline) over its box, clamped to the image.
export function rasteriseStroke(points: ImagePoint[], radius: number, width: number, height: number): { box: Box; mask: BitMask } | null {
  if (points.length === 0) return null;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const box: Box = [
    Math.max(0, Math.floor(Math.min(...xs) - radius)), Math.max(0, Math.floor(Math.min(...ys) - radius)),
    Math.min(width, Math.ceil(Math.max(...xs) + radius)), Math.min(height, Math.ceil(Math.max(...ys) + radius)),
  ];
  if (box[2] <= box[0] || box[3] <= box[1]) return null;
  const mask: BitMask = { width: box[2] - box[0], height: box[3] - box[1], data: new Uint8Array((box[2] - box[0]) * (box[3] - box[1])) };
  const segments = points.length === 1 ? [[points[0], points[0]]] : points.slice(1).map((p, i) => [points[i], p]);
  for (const [a, b] of segments) {
    const x0 = Math.max(box[0], Math.floor(Math.min(a[0], b[0]) - radius)), x1 = Math.min(box[2], Math.ceil(Math.max(a[0], b[0]) + radius));
    const y0 = Math.max(box[1], Math.floor(Math.min(a[1], b[1]) - radius)), y1 = Math.min(box[3], Math.ceil(Math.max(a[1], b[1]) + radius));
    const dx = b[0] - a[0], dy = b[1] - a[1], length2 = dx * dx + dy * dy;
    for (let y = y0; y < y1; ++y) {
      for (let x = x0; x < x1; ++x) {
        const px = x + 0.5, py = y + 0.5;
        const t = length2 > 0 ? Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / length2)) : 0;
        const ex = px - (a[0] + t * dx), ey = py - (a[1] + t * dy);
        if (ex * ex + ey * ey <= radius * radius) mask.data[(y - box[1]) * mask.width + (x - box[0])] = 1;
      }
    }
  }
  return { box, mask };
}

// Paints `source` (covering sourceBox) into `target` (covering targetBox): set, or clear where source is set.
function paint(target: BitMask, targetBox: Box, source: BitMask, sourceBox: Box, value: 0 | 1): void {
  for (let y = 0; y < source.height; ++y) {
    for (let x = 0; x < source.width; ++x) {
      if (!source.data[y * source.width + x]) continue;
      const tx = x + sourceBox[0] - targetBox[0], ty = y + sourceBox[1] - targetBox[1];
      target.data[ty * target.width + tx] = value;
    }
  }
}

export class BrushTool implements Tool {
  readonly name: string;
  readonly label: string;
  readonly controls: HTMLElement;
  private readonly drawer: ShapeDrawer;
  private readonly radiusInput: HTMLInputElement;

  constructor(private readonly ctx: AnnotateContext, private readonly erase: boolean) {
    this.name = erase ? 'eraser' : 'brush';
    this.label = erase ? 'Eraser' : 'Brush';
    this.radiusInput = h('input', { type: 'number', min: 1, max: 200, value: '6', class: 'small-number', dataset: { testid: `${this.name}-radius` } }) as HTMLInputElement;
    this.controls = h('div', { class: 'tool-controls' },
      h('label', { class: 'small' }, 'Radius (px) ', this.radiusInput),
      h('div', { class: 'small muted' }, erase
        ? 'Drag from inside a mask (or over the selected one) to erase from it.'
        : 'Drag from inside a mask (or anywhere, with one selected) to paint onto it; from outside every mask to paint a new one.'));
    this.drawer = new ShapeDrawer(ctx.imageMap, 'LineString', true, (points) => void this.applyStroke(points));
  }

  activate(): void {
    this.drawer.start();
  }

  deactivate(): void {
    this.drawer.stop();
  }

  private async applyStroke(points: ImagePoint[]): Promise<void> {
    const { width, height } = this.ctx.imageMap.size;
    const stroke = rasteriseStroke(points, Math.max(0.5, Number(this.radiusInput.value) || 6), width, height);
    if (!stroke) return;
    let selected = this.ctx.selected();
    if (selected && selected.kind !== 'mask') {
      this.ctx.report(`annotation ${selected.id} is a ${selected.kind}: the ${this.name} works on masks`, true);
      return;
    }
    if (!selected) {
      try {
        selected = await this.maskUnder(points[0]);
      } catch (err) {
        this.ctx.report(`Cannot ${this.erase ? 'erase' : 'paint'}: ${err instanceof Error ? err.message : String(err)}`, true);
        return;
      }
    }
    if (!selected) {
      if (this.erase) {
        this.ctx.report('Start the eraser stroke inside a mask, or select the mask in the list.', true);
        return;
      }
      const tag = this.ctx.currentTag();
      await this.ctx.runEdit('paint a new mask', () => createAnnotation(this.ctx.image.id, {
        kind: 'mask', bbox: stroke.box, mask_rle: encodeRle(stroke.mask), frame_index: this.ctx.frame(),
        tag_id: tag ? tag.id : null, color: this.ctx.currentColor(),
      }, `paint a new mask on image ${this.ctx.image.id}`));
      return;
    }
    await this.ctx.runEdit(this.erase ? 'erase' : 'paint', async () => {
      const current = await getAnnotationWithMask(selected.id);
      if (!current.mask_rle) throw new Error(`annotation ${selected.id} came back without its mask`);
      const oldBox = current.bbox;
      const union: Box = this.erase ? oldBox : [
        Math.min(oldBox[0], stroke.box[0]), Math.min(oldBox[1], stroke.box[1]), Math.max(oldBox[2], stroke.box[2]), Math.max(oldBox[3], stroke.box[3]),
      ];
      const canvas: BitMask = { width: union[2] - union[0], height: union[3] - union[1], data: new Uint8Array((union[2] - union[0]) * (union[3] - union[1])) };
      paint(canvas, union, decodeRle(current.mask_rle), oldBox, 1);
      // The eraser's stroke may reach past the mask: clip it to the mask's box first.
      const clipped = this.erase ? clipStroke(stroke.mask, stroke.box, oldBox) : stroke;
      if (clipped) paint(canvas, union, clipped.mask, clipped.box, this.erase ? 0 : 1);
      const inner = setPixelsBox(canvas);
      if (!inner) return deleteAnnotation(current);
      const mask = cropMask(canvas, inner);
      const bbox: Box = [union[0] + inner[0], union[1] + inner[1], union[0] + inner[2], union[1] + inner[3]];
      return patchAnnotation(current, { bbox, mask_rle: encodeRle(mask), source: 'manual' }, `${this.name} on annotation ${current.id}`);
    });
  }

  // The topmost mask of the frame holding the pixel under `point`, or null: candidates by their box, then
  // their pixels (a box also covers background around the object).
  private async maskUnder(point: ImagePoint): Promise<Annotation | null> {
    const x = Math.floor(point[0]), y = Math.floor(point[1]);
    const candidates = this.ctx.annotations()
      .filter((a) => a.kind === 'mask' && !a.deleted && a.bbox[0] <= x && x < a.bbox[2] && a.bbox[1] <= y && y < a.bbox[3])
      .reverse();
    for (const candidate of candidates) {
      const withMask = await getAnnotationWithMask(candidate.id);
      if (!withMask.mask_rle) continue;
      const mask = decodeRle(withMask.mask_rle);
      if (mask.data[(y - withMask.bbox[1]) * mask.width + (x - withMask.bbox[0])]) return candidate;
    }
    return null;
  }
}

function clipStroke(mask: BitMask, box: Box, to: Box): { mask: BitMask; box: Box } | null {
  const inter: Box = [Math.max(box[0], to[0]), Math.max(box[1], to[1]), Math.min(box[2], to[2]), Math.min(box[3], to[3])];
  if (inter[2] <= inter[0] || inter[3] <= inter[1]) return null;
  return { box: inter, mask: cropMask(mask, [inter[0] - box[0], inter[1] - box[1], inter[2] - box[0], inter[3] - box[1]]) };
}
