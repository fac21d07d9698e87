// Polygon drawing, and the mask edits of docs/api/mask_edits.md: a skeleton stroke across over-segmented
// parts merges the masks it touches; point markers on the centres of touching objects (and optionally an
// outline stroke along the cut) split the selected mask.

import { h } from '../dom';
import { createAnnotation, mergeByStroke, splitMask } from './annotation_api';
import type { AnnotateContext, Tool } from './context';
import { ClickMarkers, type ImagePoint, ShapeDrawer, markerStyle, roundPoints, strokeInPixelIndices } from './draw_tool';

// A tool whose whole gesture is one drawn shape, handed to `apply` once it has `minPoints` vertices.
class DrawnShapeTool implements Tool {
  readonly controls: HTMLElement;
  private readonly drawer: ShapeDrawer;

  constructor(
    readonly name: string,
    readonly label: string,
    help: string,
    ctx: AnnotateContext,
    shape: { type: 'LineString' | 'Polygon'; freehand: boolean; minPoints: number },
    apply: (points: ImagePoint[]) => Promise<unknown>,
  ) {
    this.controls = h('div', { class: 'tool-controls small muted' }, help);
    this.drawer = new ShapeDrawer(ctx.imageMap, shape.type, shape.freehand, (points) => {
      if (points.length >= shape.minPoints) void apply(points);
    });
  }

  activate(): void { this.drawer.start(); }
  deactivate(): void { this.drawer.stop(); }
}

export function polygonTool(ctx: AnnotateContext): Tool {
  return new DrawnShapeTool('polygon', 'Polygon', 'Click the corners; double-click to close the polygon.', ctx,
    { type: 'Polygon', freehand: false, minPoints: 3 }, (points) => {
      const tag = ctx.currentTag();
      return ctx.runEdit('save the polygon', () => createAnnotation(ctx.image.id, {
        kind: 'polygon', geometry: { points: roundPoints(points) }, frame_index: ctx.frame(),
        tag_id: tag ? tag.id : null, color: ctx.currentColor(),
      }, `draw a polygon on image ${ctx.image.id}`));
    });
}

export function mergeTool(ctx: AnnotateContext): Tool {
  return new DrawnShapeTool('merge', 'Merge (skeleton)', 'Drag a stroke across the parts of one object: the masks it touches become one.', ctx,
    { type: 'LineString', freehand: true, minPoints: 2 },
    (points) => ctx.runEdit('merge', () => mergeByStroke(ctx.image.id, ctx.frame(), strokeInPixelIndices(points, ctx.imageMap.size), 3)));
}

const splitMarkerStyle = markerStyle('#ffdc00', '#111');

export class SplitTool implements Tool {
  readonly name = 'split';
  readonly label = 'Split (markers)';
  readonly controls: HTMLElement;
  private markers: ImagePoint[] = [];
  private outline: ImagePoint[] | null = null;
  private readonly clicks: ClickMarkers;
  private readonly outlineDrawer: ShapeDrawer;
  private readonly status = h('span', { class: 'small muted' });
  private drawingOutline = false;

  constructor(private readonly ctx: AnnotateContext) {
    this.outlineDrawer = new ShapeDrawer(ctx.imageMap, 'LineString', true, (points) => {
      this.outline = points;
      this.stopOutline();
      this.showStatus();
    });
    this.controls = h('div', { class: 'tool-controls' },
      h('div', { class: 'small muted' }, 'Select a mask, click a marker on the centre of each object in it, then Split. An outline stroke marks where the cut must run.'),
      h('div', { class: 'control-row' },
        h('button', { class: 'small', dataset: { testid: 'split-outline' }, onclick: () => this.startOutline() }, 'Draw outline'),
        h('button', { class: 'small primary', dataset: { testid: 'split-apply' }, onclick: () => void this.split() }, 'Split'),
        h('button', { class: 'small', onclick: () => this.clear() }, 'Clear')),
      this.status);
    this.clicks = new ClickMarkers(ctx.imageMap, (point) => {
      if (this.drawingOutline) return null;
      this.markers.push(point);
      this.showStatus();
      return splitMarkerStyle;
    });
    this.showStatus();
  }

  activate(): void {
    this.clicks.start();
  }

  deactivate(): void {
    this.clicks.stop();
    this.stopOutline();
    this.clear();
  }

  private startOutline(): void {
    this.drawingOutline = true;
    this.outlineDrawer.start();
  }

  private stopOutline(): void {
    this.drawingOutline = false;
    this.outlineDrawer.stop();
  }

  private showStatus(): void {
    this.status.textContent = `${this.markers.length} marker(s)${this.outline ? ', an outline' : ''}.`;
  }

  private async split(): Promise<void> {
    const selected = this.ctx.selected();
    if (!selected || selected.kind !== 'mask') {
      this.ctx.report('Select the mask to split in the list first.', true);
      return;
    }
    if (this.markers.length < 2) {
      this.ctx.report('A split needs at least two markers, one per object.', true);
      return;
    }
    const ok = await this.ctx.runEdit('split', () => splitMask(selected, this.markers, this.outline ? strokeInPixelIndices(this.outline, this.ctx.imageMap.size) : null));
    if (ok) this.clear();
  }

  private clear(): void {
    this.markers = [];
    this.outline = null;
    this.clicks.clear();
    this.showStatus();
  }
}
