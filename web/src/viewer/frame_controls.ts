// Frame slider and playback. Two kinds of sequence reach the viewer: the pages of one multi-page image (the
// tile query's `frame`) and the images of a series (one image per time point, ordered by frame index). The
// slider steps through whichever the image has; an image that has both gets the series slider, and its pages
// are reached with ?frame= in the viewer's address.

import { api } from '../api';
import { h } from '../dom';
import type { ImagePage, ImageRecord } from '../types';

export interface SeriesFrame {
  imageId: number;
  frameIndex: number;
  width: number;
  height: number;
}

// Every image of a series in frame order (all pages of the listing).
export async function loadSeriesFrames(projectId: number, seriesId: number): Promise<SeriesFrame[]> {
  const frames: SeriesFrame[] = [];
  let cursor: string | null = null;
  do {
    const page: ImagePage = await api.get<ImagePage>(`/api/v1/projects/${projectId}/images`, {
      series: seriesId, sort: 'frame_index', order: 'asc', limit: 1000, cursor: cursor ?? undefined,
    });
    for (const image of page.images) {
      frames.push({ imageId: image.id, frameIndex: image.frame_index ?? frames.length, width: image.width, height: image.height });
    }
    cursor = page.next_cursor;
  } while (cursor);
  return frames;
}

export interface FrameControlsOptions {
  image: ImageRecord;
  series: SeriesFrame[]; // empty when the image is in no series
  initialPage: number;   // the page of a multi-page image shown first
  onPage: (page: number) => void;               // another page of this image
  onSeriesFrame: (frame: SeriesFrame, playing: boolean) => void; // another image of the series
}

export class FrameControls {
  readonly element: HTMLElement;
  private timer: number | undefined;
  private readonly slider: HTMLInputElement | null = null;
  private readonly label: HTMLElement;
  private readonly playButton: HTMLButtonElement;
  private position: number;

  constructor(private readonly options: FrameControlsOptions) {
    const { image, series } = options;
    const seriesIndex = series.findIndex((f) => f.imageId === image.id);
    const count = series.length > 1 ? series.length : image.frames;
    this.position = series.length > 1 ? Math.max(0, seriesIndex) : options.initialPage;
    this.label = h('span', { class: 'small', dataset: { testid: 'frame-label' } });
    this.playButton = h('button', { class: 'small', dataset: { testid: 'play' }, onclick: () => this.togglePlay() }, 'Play');
    const fps = h('select', { class: 'small', title: 'frames per second' },
      ...[2, 5, 10, 20].map((n) => h('option', { value: String(n), selected: n === 5 }, `${n} fps`))) as HTMLSelectElement;
    this.fps = () => Number(fps.value);
    if (count > 1) {
      this.slider = h('input', { type: 'range', min: 0, max: count - 1, step: 1, value: String(this.position), dataset: { testid: 'frame-slider' } }) as HTMLInputElement;
      this.slider.addEventListener('input', () => this.go(Number(this.slider!.value), false));
      this.element = h('div', { class: 'frame-controls control-row' },
        h('span', { class: 'small' }, series.length > 1 ? 'Series' : 'Frame'), this.slider, this.label, this.playButton, fps);
    } else {
      this.element = h('div', { class: 'frame-controls', hidden: true });
    }
    this.showLabel();
  }

  private readonly fps: () => number;

  private get count(): number {
    return this.options.series.length > 1 ? this.options.series.length : this.options.image.frames;
  }

  private showLabel(): void {
    const series = this.options.series;
    if (series.length > 1) {
      const frame = series[this.position];
      this.label.textContent = `frame ${frame.frameIndex} (${this.position + 1} of ${series.length})`;
    } else {
      this.label.textContent = `page ${this.position} of ${this.count}`;
    }
  }

  private go(position: number, playing: boolean): void {
    this.position = position;
    if (this.slider) this.slider.value = String(position);
    this.showLabel();
    if (this.options.series.length > 1) this.options.onSeriesFrame(this.options.series[position], playing);
    else this.options.onPage(position);
  }

  get isPlaying(): boolean {
    return this.timer !== undefined;
  }

  togglePlay(): void {
    if (this.timer !== undefined) {
      this.stop();
      // Playback only swaps tiles; landing on a frame opens it properly (its masks, its lock).
      if (this.options.series.length > 1) this.options.onSeriesFrame(this.options.series[this.position], false);
      return;
    }
    this.playButton.textContent = 'Pause';
    const tick = () => {
      this.go((this.position + 1) % this.count, true);
      this.timer = window.setTimeout(tick, 1000 / this.fps());
    };
    this.timer = window.setTimeout(tick, 1000 / this.fps());
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.playButton.textContent = 'Play';
  }
}
