// A grid of thumbnails that only builds the cells on screen (plus a margin), so 100,000 rows scroll as
// smoothly as 100: the scroll area is sized for every row, and a small pool of cells is positioned over the
// visible part. Cells whose rows are not loaded yet show a placeholder until the source fills them.

import { authorizedUrl } from '../api';
import { h } from '../dom';
import type { ImageSource, ImageSummary } from './image_source';

export interface GridCallbacks {
  onCellClick: (index: number, image: ImageSummary, event: MouseEvent) => void;
  onCellOpen: (image: ImageSummary) => void;
  isSelected: (id: number) => boolean;
  onFirstThumbnail: () => void;
}

const kCellWidth = 168;
const kCellHeight = 196;
const kOverscanRows = 3;

// The z = 0 tile holds the whole image in 256 px: the thumbnail, rendered once by the server and cached.
export function thumbnailUrl(imageId: number): string {
  return authorizedUrl(`/api/v1/images/${imageId}/tiles/0/0/0.webp`);
}

export class VirtualGrid {
  readonly element: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly cells = new Map<number, HTMLElement>();  // row index -> cell element on screen
  private source: ImageSource | null = null;
  private readonly callbacks: GridCallbacks;
  private columns = 1;
  private frame = 0;
  private firstThumbnailSeen = false;
  private readonly resizeObserver: ResizeObserver;

  constructor(callbacks: GridCallbacks) {
    this.callbacks = callbacks;
    this.spacer = h('div', { class: 'grid-spacer' });
    this.element = h('div', { class: 'image-grid', tabindex: 0 }, this.spacer);
    this.element.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(this.element);
  }

  setSource(source: ImageSource): void {
    this.source = source;
    for (const cell of this.cells.values()) cell.remove();
    this.cells.clear();
    this.element.scrollTop = 0;
    this.schedule();
  }

  // Re-renders the visible cells (after the source loaded rows or the selection changed).
  refresh(): void {
    this.schedule();
  }

  // Scrolls so that row index is visible.
  reveal(index: number): void {
    const row = Math.floor(index / this.columns);
    this.element.scrollTop = row * kCellHeight;
    this.schedule();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.frame);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const source = this.source;
    if (!source) return;
    this.columns = Math.max(1, Math.floor(this.element.clientWidth / kCellWidth));
    const rows = Math.ceil(source.length / this.columns);
    this.spacer.style.height = `${rows * kCellHeight}px`;
    const firstRow = Math.max(0, Math.floor(this.element.scrollTop / kCellHeight) - kOverscanRows);
    const lastRow = Math.min(rows, Math.ceil((this.element.scrollTop + this.element.clientHeight) / kCellHeight) + kOverscanRows);
    const first = firstRow * this.columns;
    const end = Math.min(source.length, lastRow * this.columns);
    if (end > source.loadedCount && !source.isComplete) void source.want(end);

    for (const [index, cell] of this.cells) {
      if (index < first || index >= end) {
        cell.remove();
        this.cells.delete(index);
      }
    }
    for (let index = first; index < end; ++index) {
      const image = source.at(index);
      let cell = this.cells.get(index);
      if (cell && cell.dataset.imageId !== String(image?.id ?? '')) {
        cell.remove();
        cell = undefined;
      }
      if (!cell) {
        cell = image ? this.buildCell(index, image) : h('div', { class: 'grid-cell placeholder' }, h('div', { class: 'thumb' }));
        cell.style.transform = `translate(${(index % this.columns) * kCellWidth}px, ${Math.floor(index / this.columns) * kCellHeight}px)`;
        this.cells.set(index, cell);
        this.element.append(cell);
      } else {
        cell.style.transform = `translate(${(index % this.columns) * kCellWidth}px, ${Math.floor(index / this.columns) * kCellHeight}px)`;
      }
      if (image) cell.classList.toggle('selected', this.callbacks.isSelected(image.id));
    }
  }

  private buildCell(index: number, image: ImageSummary): HTMLElement {
    const img = h('img', { alt: image.path, decoding: 'async', draggable: false });
    img.addEventListener('load', () => {
      if (this.firstThumbnailSeen) return;
      this.firstThumbnailSeen = true;
      this.callbacks.onFirstThumbnail();
    }, { once: true });
    img.src = thumbnailUrl(image.id);
    const name = image.path.split('/').pop() ?? image.path;
    const caption = image.series !== null ? `${image.series} · frame ${image.frame ?? '?'}` : `${image.width} × ${image.height}`;
    const cell = h('div', { class: 'grid-cell', title: image.path, dataset: { imageId: String(image.id), index: String(index) } },
      h('div', { class: 'thumb' }, img),
      h('div', { class: 'cell-name' }, name),
      h('div', { class: 'cell-caption muted' }, caption));
    cell.addEventListener('click', (event) => this.callbacks.onCellClick(index, image, event));
    cell.addEventListener('dblclick', () => this.callbacks.onCellOpen(image));
    return cell;
  }
}
