// The images matching one filter, paged in from the API with its keyset cursors. Cursors only go forward, so
// what is loaded is always a prefix of the list: showing row 90,000 first means walking there, 1,000 images a
// request (about 2 ms a page on the server), with the loaded count shown meanwhile. Records are kept slim
// (what a grid cell needs) so 100,000 of them stay a few MB; the full record is fetched when one is opened.

import { api } from '../api';
import type { ImagePage, ImageRecord } from '../types';
import { filterQuery, type ImageFilter, type SortKey } from './filter';

export interface ImageSummary {
  id: number;
  path: string;
  width: number;
  height: number;
  series: string | null;
  frame: number | null;
  focus: number | null;
  sortValue: string | number;  // what the list is sorted by (then by id), as the server sorts it
}

const kFirstPage = 120;  // small, so the first screen shows fast
const kPage = 1000;      // the API's maximum: fewest round trips when walking

// The value the server sorts an image by under `sort` (catalog.cpp sort_key: missing values sort first).
function sortValue(image: ImageRecord, sort: SortKey): string | number {
  switch (sort) {
    case 'id': return image.id;
    case 'source_path': return image.source_path;
    case 'acquired_at': return image.acquired_at ?? '';
    case 'imported_at': return image.imported_at;
    case 'focus': return image.focus ?? -1e300;
    case 'frame_index': return image.frame_index ?? -1;
    case 'width': return image.width;
    case 'height': return image.height;
    case 'byte_size': return image.byte_size;
  }
}

function summarize(image: ImageRecord, sort: SortKey): ImageSummary {
  return {
    id: image.id,
    path: image.source_path,
    width: image.width,
    height: image.height,
    series: image.series,
    frame: image.frame_index,
    focus: image.focus,
    sortValue: sortValue(image, sort),
  };
}

export class ImageSource {
  readonly projectId: number;
  readonly filter: ImageFilter;
  total: number | null = null;
  private readonly items: ImageSummary[] = [];
  private cursor: string | null = null;
  private finished = false;
  private wanted = 0;
  private pumping: Promise<void> | null = null;
  private readonly controller = new AbortController();
  private readonly onChange: () => void;
  private readonly onError: (error: unknown) => void;

  constructor(projectId: number, filter: ImageFilter, onChange: () => void, onError: (error: unknown) => void) {
    this.projectId = projectId;
    this.filter = filter;
    this.onChange = onChange;
    this.onError = onError;
  }

  get loadedCount(): number {
    return this.items.length;
  }

  get isComplete(): boolean {
    return this.finished;
  }

  // The number of rows the grid should lay out: the total once known, else what is loaded.
  get length(): number {
    return Math.max(this.total ?? 0, this.items.length);
  }

  at(index: number): ImageSummary | undefined {
    return this.items[index];
  }

  indexOf(id: number): number {
    return this.items.findIndex((item) => item.id === id);
  }

  // Loads the first page with the total count. Throws ApiError (e.g. a bad where filter: 400, field 'where').
  async start(): Promise<void> {
    await this.fetchPage(kFirstPage, true);
  }

  // Asks for rows up to index end (exclusive) to be loaded; returns when they are (or the list ended).
  want(end: number): Promise<void> {
    this.wanted = Math.max(this.wanted, end);
    if (!this.pumping) {
      this.pumping = this.pump().finally(() => {
        this.pumping = null;
      });
    }
    return this.pumping;
  }

  // Every matching id (walks the rest of the list): for "select all matching" made into an explicit list.
  async allIds(): Promise<number[]> {
    await this.want(Number.MAX_SAFE_INTEGER);
    return this.items.map((item) => item.id);
  }

  close(): void {
    this.controller.abort();
  }

  // A new image the filter matches (the caller asked the server): inserted where the sort puts it when that is
  // within the loaded rows, or appended to a complete list. Beyond the loaded rows of an incomplete list the
  // cursor walk meets it anyway (cursors are positions in the sort order), so only the count grows there.
  offer(image: ImageRecord): void {
    if (this.indexOf(image.id) >= 0) return;
    const item = summarize(image, this.filter.sort);
    const at = this.insertionPoint(item);
    if (at < this.items.length || this.finished) this.items.splice(at, 0, item);
    if (this.finished) this.total = this.items.length;
    else if (this.total !== null) this.total += 1;
    this.onChange();
  }

  // The first loaded row the item sorts before (binary search: the loaded rows are in sort order).
  private insertionPoint(item: ImageSummary): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.sortsBefore(this.items[mid], item)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private sortsBefore(a: ImageSummary, b: ImageSummary): boolean {
    const ascending = a.sortValue < b.sortValue || (a.sortValue === b.sortValue && a.id < b.id);
    const same = a.sortValue === b.sortValue && a.id === b.id;
    return this.filter.order === 'asc' ? ascending : !ascending && !same;
  }

  private async pump(): Promise<void> {
    try {
      while (!this.finished && this.items.length < this.wanted && !this.controller.signal.aborted) {
        await this.fetchPage(kPage, false);
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.onError(err);
    }
  }

  private async fetchPage(limit: number, withCount: boolean): Promise<void> {
    const page = await api.get<ImagePage>(`/api/v1/projects/${this.projectId}/images`,
      { ...filterQuery(this.filter), limit, cursor: this.cursor ?? undefined, count: withCount ? 'true' : undefined },
      this.controller.signal);
    if (this.controller.signal.aborted) return;
    for (const image of page.images) this.items.push(summarize(image, this.filter.sort));
    if (page.total !== undefined) this.total = page.total;
    this.cursor = page.next_cursor;
    if (!page.next_cursor) {
      this.finished = true;
      this.total = this.items.length;  // images added meanwhile beyond the count show up now
    }
    this.onChange();
  }
}
