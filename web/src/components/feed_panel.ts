// The live feed panel beside every screen of a project: focus alerts (qc.focus_drop), running jobs with
// progress bars, who is editing which image (lock events), a focus sparkline per series, and the latest
// uploads as thumbnails. It listens to the project's event stream (feed.ts); the sparklines start from the
// series' recent frames so a panel opened mid-experiment shows the curve so far.

import { api } from '../api';
import { h } from '../dom';
import { FeedClient, kFeedEvent, type FeedEvent, type FeedStatus } from '../feed';
import { session } from '../session';
import type { ImagePage, Series } from '../types';
import { thumbnailUrl } from '../browser/virtual_grid';
import { sparkline } from './sparkline';

interface JobView { id: number; kind: string; state: string; progress: number; message: string }
interface LockView { imageId: number; holder: string; until: string }
interface SeriesFocus { frames: Map<number, number>; alerts: Set<number> }

const kMaxUploads = 12;
const kMaxAlerts = 20;
const kSparkFrames = 60;

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

export class FeedPanel {
  private readonly root: HTMLElement;
  private client: FeedClient | null = null;
  private projectId: number | null = null;
  private readonly jobs = new Map<number, JobView>();
  private readonly locks = new Map<number, LockView>();
  private readonly series = new Map<string, SeriesFocus>();
  private readonly uploads: { imageId: number; path: string; at: string }[] = [];
  private readonly alerts: { imageId: number; series: string; frame: number | null; ratio: number | null; at: string }[] = [];
  private status: FeedStatus = 'closed';
  private renderPending = false;

  constructor(root: HTMLElement) {
    this.root = root;
  }

  // Shows the panel for a project (or hides it for null); restarts the stream when the project changes.
  show(projectId: number | null): void {
    if (projectId === this.projectId && this.client) return;
    this.client?.stop();
    this.client = null;
    this.projectId = projectId;
    this.jobs.clear();
    this.locks.clear();
    this.series.clear();
    this.uploads.length = 0;
    this.alerts.length = 0;
    this.root.hidden = projectId === null;
    if (projectId === null) return;
    this.client = new FeedClient(projectId, {
      onEvent: (event) => this.apply(event),
      onStatus: (status) => {
        this.status = status;
        this.schedule();
      },
    });
    this.client.start();
    void this.loadSeriesHistory(projectId);
    this.schedule();
  }

  private async loadSeriesHistory(projectId: number): Promise<void> {
    try {
      const { series } = await api.get<{ series: Series[] }>(`/api/v1/projects/${projectId}/series`);
      for (const s of series.slice(-8)) {
        const page = await api.get<ImagePage>(`/api/v1/projects/${projectId}/images`,
          { series: s.id, sort: 'frame_index', order: 'desc', limit: kSparkFrames });
        if (this.projectId !== projectId) return;
        const focus = this.seriesFocus(s.name);
        for (const image of page.images) {
          if (image.frame_index !== null && image.focus !== null && !focus.frames.has(image.frame_index)) {
            focus.frames.set(image.frame_index, image.focus);
          }
        }
      }
      this.schedule();
    } catch {
      // the live events still fill the sparklines
    }
  }

  private seriesFocus(name: string): SeriesFocus {
    let focus = this.series.get(name);
    if (!focus) {
      focus = { frames: new Map(), alerts: new Set() };
      this.series.set(name, focus);
    }
    return focus;
  }

  private apply(event: FeedEvent): void {
    // Screens follow the same stream through the document (one connection: the image browser's live grid).
    document.dispatchEvent(new CustomEvent<FeedEvent>(kFeedEvent, { detail: event }));
    const p = event.payload ?? {};
    if (event.kind === 'image.imported' && event.subject_id !== null) {
      this.uploads.unshift({ imageId: event.subject_id, path: text(p.path), at: event.at });
      this.uploads.length = Math.min(this.uploads.length, kMaxUploads);
      const focus = num(p.focus);
      const frame = num(p.frame);
      if (p.series && focus !== null) this.seriesFocus(text(p.series)).frames.set(frame ?? this.seriesFocus(text(p.series)).frames.size, focus);
    } else if (event.kind === 'qc.focus_drop') {
      const frame = num(p.frame);
      this.alerts.unshift({ imageId: num(p.image_id) ?? 0, series: text(p.series), frame, ratio: num(p.ratio), at: event.at });
      this.alerts.length = Math.min(this.alerts.length, kMaxAlerts);
      if (frame !== null) this.seriesFocus(text(p.series)).alerts.add(frame);
    } else if (event.kind.startsWith('job.')) {
      const id = num(p.job) ?? event.subject_id ?? 0;
      const state = event.kind.slice(4);
      const job = this.jobs.get(id) ?? { id, kind: text(p.kind), state, progress: 0, message: '' };
      job.state = state;
      if (state === 'progress') job.state = 'running';
      const progress = num(p.progress);
      if (progress !== null) job.progress = progress;
      if (state === 'succeeded') job.progress = 1;
      if (p.message !== undefined) job.message = text(p.message);
      this.jobs.set(id, job);
    } else if (event.kind === 'lock.acquired' || event.kind === 'lock.renewed') {
      const imageId = num(p.image_id) ?? event.subject_id ?? 0;
      this.locks.set(imageId, { imageId, holder: text(p.holder ?? event.actor), until: text(p.expires_at) });
    } else if (event.kind.startsWith('lock.')) {
      this.locks.delete(num(p.image_id) ?? event.subject_id ?? 0);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this.render();
    });
  }

  private render(): void {
    const now = new Date().toISOString();
    for (const [id, lock] of this.locks) if (lock.until && lock.until < now) this.locks.delete(id);
    const jobs = [...this.jobs.values()].sort((a, b) => b.id - a.id).slice(0, 10);
    this.root.replaceChildren(
      h('div', { class: `feed-status feed-${this.status}` }, `Live feed: ${this.status}`),
      this.section('Alerts', 'feed-alerts', this.alerts.map((a) =>
        h('li', { class: 'alert', dataset: { imageId: String(a.imageId) } },
          h('a', { href: `#/viewer/${a.imageId}` }, `Focus dropped: ${a.series} frame ${a.frame ?? '?'}`),
          a.ratio !== null ? h('span', { class: 'muted' }, ` (${Math.round(a.ratio * 100)}% of recent median)`) : null))),
      this.section('Jobs', 'feed-jobs', jobs.map((j) =>
        h('li', { dataset: { jobId: String(j.id), state: j.state } },
          h('div', {}, `#${j.id} ${j.kind} · ${j.state}`),
          h('progress', { max: 1, value: j.progress }),
          j.message ? h('div', { class: 'muted small' }, j.message) : null))),
      this.section('Editing now', 'feed-locks', [...this.locks.values()].map((l) =>
        h('li', { dataset: { imageId: String(l.imageId) } }, `${l.holder} is editing `, h('a', { href: `#/viewer/${l.imageId}` }, `image ${l.imageId}`)))),
      this.section('Focus per series', 'feed-series', [...this.series.entries()].map(([name, focus]) => {
        const frames = [...focus.frames.keys()].sort((a, b) => a - b).slice(-kSparkFrames);
        const alertIndexes = new Set(frames.flatMap((f, i) => (focus.alerts.has(f) ? [i] : [])));
        return h('li', { class: 'series-focus', dataset: { series: name } }, h('div', { class: 'small' }, name),
          sparkline(frames.map((f) => focus.frames.get(f)!), 200, 30, alertIndexes));
      })),
      this.section('Uploads', 'feed-uploads', this.uploads.map((u) =>
        h('li', { class: 'upload', dataset: { imageId: String(u.imageId) } },
          h('img', { src: thumbnailUrl(u.imageId), alt: u.path, loading: 'lazy' }),
          h('span', { class: 'small' }, u.path.split('/').pop() ?? u.path)))));
  }

  private section(title: string, className: string, items: HTMLElement[]): HTMLElement {
    const list = h('ul', { class: className });
    if (items.length === 0) list.append(h('li', { class: 'muted small' }, 'nothing yet'));
    else list.append(...items);
    return h('section', { class: 'feed-section' }, h('h4', {}, title), list);
  }
}

// Shows the panel on every signed-in screen that has a project, hides it on login.
export function mountFeedPanel(root: HTMLElement): void {
  const panel = new FeedPanel(root);
  const sync = (): void => {
    const onLogin = location.hash.startsWith('#/login');
    panel.show(session.isSignedIn() && !onLogin ? session.projectId() : null);
  };
  for (const event of ['tessera:route', 'tessera:project', 'tessera:signed-in']) document.addEventListener(event, sync);
  sync();
}
