// Propagate the current tag's masks from this frame through the series (a masks.propagate job): a progress
// bar while it runs, then the frames it flagged for review, each a link to that frame.

import { ApiError } from '../api';
import { h } from '../dom';
import { type Job, getJob, propagate } from './annotation_api';

interface PropagationStep {
  frame: number;
  image_id: number;
  annotation_id?: number;
  action: string;
  confidence?: number;
  needs_review: boolean;
  reason: string;
}

export class PropagationPanel {
  readonly element: HTMLElement;
  private readonly progress: HTMLProgressElement;
  private readonly status: HTMLElement;
  private readonly flagged: HTMLElement;
  private readonly direction: HTMLSelectElement;
  private readonly minConfidence: HTMLInputElement;
  private timer: number | undefined;

  constructor(
    private readonly seriesId: number,
    private readonly frameIndex: number,
    private readonly tagId: () => number | null,
    private readonly beforeStart: () => Promise<void>,
    private readonly onDone: () => void,
  ) {
    this.direction = h('select', { class: 'small' },
      h('option', { value: 'both' }, 'both ways'), h('option', { value: 'forward' }, 'forward'), h('option', { value: 'backward' }, 'backward')) as HTMLSelectElement;
    this.minConfidence = h('input', {
      type: 'number', min: 0, max: 1, step: 0.05, value: '0.6', class: 'small-number',
      title: 'masks below this confidence are flagged for review', dataset: { testid: 'min-confidence' },
    }) as HTMLInputElement;
    this.progress = h('progress', { max: 1, value: 0, hidden: true, dataset: { testid: 'propagation-progress' } }) as HTMLProgressElement;
    this.status = h('div', { class: 'small', dataset: { testid: 'propagation-status' } });
    this.flagged = h('ul', { class: 'flagged-list', dataset: { testid: 'flagged-frames' } });
    this.element = h('section', { class: 'panel-section' }, h('h4', {}, 'Propagate through the series'),
      h('div', { class: 'control-row' }, this.direction, h('label', { class: 'small' }, 'flag below ', this.minConfidence),
        h('button', { class: 'small', dataset: { testid: 'propagate' }, onclick: () => void this.start() }, 'Propagate tag')),
      this.progress, this.status, this.flagged);
  }

  private async start(): Promise<void> {
    const tagId = this.tagId();
    if (tagId === null) {
      this.status.textContent = 'Choose the tag whose masks to propagate.';
      return;
    }
    this.flagged.replaceChildren();
    try {
      await this.beforeStart();
      const { job } = await propagate(this.seriesId, this.frameIndex, tagId, this.direction.value, Number(this.minConfidence.value));
      this.progress.hidden = false;
      this.follow(job);
    } catch (err) {
      this.status.textContent = err instanceof ApiError || err instanceof Error ? err.message : String(err);
    }
  }

  private follow(job: Job): void {
    this.progress.value = job.progress;
    this.status.textContent = `${job.state}${job.message ? `: ${job.message}` : ''}`;
    if (job.state === 'succeeded') {
      this.showResult(job.result ?? {});
      this.onDone();
      return;
    }
    if (job.state === 'failed' || job.state === 'cancelled') return;
    this.timer = window.setTimeout(async () => {
      try {
        this.follow(await getJob(job.id));
      } catch (err) {
        this.status.textContent = err instanceof Error ? err.message : String(err);
      }
    }, 500);
  }

  private showResult(result: Record<string, unknown>): void {
    const steps = (Array.isArray(result.steps) ? result.steps : []) as PropagationStep[];
    const flagged = steps.filter((s) => s.needs_review);
    this.status.textContent = `Done: ${result.created ?? 0} created, ${result.updated ?? 0} updated, ${result.kept ?? 0} kept, ${flagged.length} flagged for review.`;
    this.flagged.replaceChildren(...flagged.map((s) => h('li', {},
      h('a', { href: `#/viewer/${s.image_id}` }, `frame ${s.frame}`),
      ` ${s.reason || (s.confidence !== undefined ? `confidence ${s.confidence.toFixed(2)}` : '')}`)));
  }

  dispose(): void {
    window.clearTimeout(this.timer);
  }
}
