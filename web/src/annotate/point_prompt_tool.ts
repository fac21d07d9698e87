// + / − points with a live mask preview: every click asks masks:generate for a preview (no save; an older
// request still running is aborted), drawn over the image; "Accept" stores it with the chosen tag and colour.
// Click = positive point; shift-click (or the − mode) = negative point.

import { h } from '../dom';
import { type PromptPoint, previewMask, saveGeneratedMask } from './annotation_api';
import type { AnnotateContext, Tool } from './context';
import { ClickMarkers, markerStyle } from './draw_tool';
import { editErrorText } from './image_lock';
import { decodeRle } from './rle';

const positiveStyle = markerStyle('#2ecc40');
const negativeStyle = markerStyle('#ff4136');

export class PointPromptTool implements Tool {
  readonly name = 'points';
  readonly label = '+/− points';
  readonly controls: HTMLElement;
  private points: PromptPoint[] = [];
  private negativeMode = false;
  private inflight: AbortController | null = null;
  private readonly markers: ClickMarkers;
  private readonly status: HTMLElement;
  private readonly acceptButton: HTMLButtonElement;
  private readonly modeButton: HTMLButtonElement;

  constructor(private readonly ctx: AnnotateContext) {
    this.status = h('span', { class: 'small muted', dataset: { testid: 'preview-status' } }, 'Click the object (+); shift-click what is not (−).');
    this.modeButton = h('button', { class: 'small', dataset: { testid: 'point-mode' }, onclick: () => this.toggleMode() }, 'Mode: +');
    this.acceptButton = h('button', { class: 'primary small', disabled: true, dataset: { testid: 'accept-mask' }, onclick: () => void this.accept() }, 'Accept');
    this.controls = h('div', { class: 'tool-controls' },
      h('div', { class: 'control-row' }, this.modeButton, this.acceptButton,
        h('button', { class: 'small', dataset: { testid: 'clear-points' }, onclick: () => this.clear() }, 'Clear')),
      this.status);
    this.markers = new ClickMarkers(ctx.imageMap, ([x, y], shiftKey) => {
      const positive = !(this.negativeMode || shiftKey);
      this.points.push([x, y, positive ? '+' : '-']);
      void this.updatePreview();
      return positive ? positiveStyle : negativeStyle;
    });
  }

  activate(): void {
    this.markers.start();
  }

  deactivate(): void {
    this.markers.stop();
    this.clear();
  }

  private toggleMode(): void {
    this.negativeMode = !this.negativeMode;
    this.modeButton.textContent = `Mode: ${this.negativeMode ? '−' : '+'}`;
  }

  private async updatePreview(): Promise<void> {
    this.inflight?.abort();
    this.acceptButton.disabled = true;
    if (!this.points.some((p) => p[2] === '+')) {
      this.ctx.overlays.showPreview(null, null, '');
      this.status.textContent = 'Add a + point on the object.';
      return;
    }
    const controller = new AbortController();
    this.inflight = controller;
    this.status.textContent = 'Computing the mask…';
    try {
      // Clicking points is editing: take the lease first, so a colleague's is reported before any work.
      await this.ctx.lock.ensure();
      const answer = await previewMask(this.ctx.image.id, this.ctx.frame(), this.points, controller.signal);
      if (controller.signal.aborted) return;
      const mask = decodeRle(answer.mask.mask_rle);
      this.ctx.overlays.showPreview(mask, answer.mask.bbox, this.ctx.currentColor());
      const [x0, y0, x1, y1] = answer.mask.bbox;
      this.status.textContent = `Preview: ${x1 - x0} x ${y1 - y0} px box, confidence ${answer.confidence.toFixed(2)}.`;
      this.status.dataset.state = 'ready';
      this.acceptButton.disabled = false;
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return;
      this.status.textContent = editErrorText('make a mask', err);
      this.ctx.report(this.status.textContent, true);
    } finally {
      if (this.inflight === controller) this.inflight = null;
    }
  }

  private async accept(): Promise<void> {
    const points = [...this.points];
    const tag = this.ctx.currentTag();
    this.acceptButton.disabled = true;
    const ok = await this.ctx.runEdit('accept the mask', () =>
      saveGeneratedMask(this.ctx.image.id, this.ctx.frame(), points, tag ? tag.id : null, this.ctx.currentColor()));
    if (ok) this.clear();
    else this.acceptButton.disabled = false;
  }

  clear(): void {
    this.inflight?.abort();
    this.points = [];
    this.markers.clear();
    this.ctx.overlays.showPreview(null, null, '');
    this.acceptButton.disabled = true;
    delete this.status.dataset.state;
    this.status.textContent = 'Click the object (+); shift-click what is not (−).';
  }
}
