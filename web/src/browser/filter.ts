// The image browser's filter and sort, as the list endpoint takes them (GET /projects/{id}/images) and as
// they appear in the screen's hash (#/images?where=...&set=...), so a filtered view can be bookmarked.

import type { QueryValue } from '../api';

export const kSortKeys = ['id', 'source_path', 'acquired_at', 'imported_at', 'focus', 'frame_index', 'width', 'height', 'byte_size'] as const;
export type SortKey = (typeof kSortKeys)[number];

export interface ImageFilter {
  where: string;  // the --where language: `frame < 5 and focus > 1e-5`, `meta.well = 'A1'`
  set: string;    // only members of this set ('' = any)
  tag: string;    // only images carrying this whole-image tag ('' = any)
  sort: SortKey;
  order: 'asc' | 'desc';
}

export const kNoFilter: ImageFilter = { where: '', set: '', tag: '', sort: 'id', order: 'asc' };

export function filterFromParams(params: Record<string, string>): ImageFilter {
  const sort = (kSortKeys as readonly string[]).includes(params.sort ?? '') ? (params.sort as SortKey) : 'id';
  return {
    where: params.where ?? '',
    set: params.set ?? '',
    tag: params.tag ?? '',
    sort,
    order: params.order === 'desc' ? 'desc' : 'asc',
  };
}

export function filterQuery(filter: ImageFilter): Record<string, QueryValue> {
  return {
    where: filter.where.trim() || undefined,
    set: filter.set || undefined,
    tag: filter.tag || undefined,
    sort: filter.sort === 'id' ? undefined : filter.sort,
    order: filter.order === 'asc' ? undefined : filter.order,
  };
}

export function filterHash(filter: ImageFilter): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filterQuery(filter))) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `#/images?${text}` : '#/images';
}

// True when the filter narrows the images (sorting alone does not).
export function isFiltering(filter: ImageFilter): boolean {
  return filter.where.trim() !== '' || filter.set !== '' || filter.tag !== '';
}

// The filter in words, for a set's description when it cannot be stored as the set's query.
export function describeFilter(filter: ImageFilter): string {
  const parts: string[] = [];
  if (filter.where.trim()) parts.push(`where ${filter.where.trim()}`);
  if (filter.set) parts.push(`in set '${filter.set}'`);
  if (filter.tag) parts.push(`tagged '${filter.tag}'`);
  return parts.join(', ') || 'all images';
}
