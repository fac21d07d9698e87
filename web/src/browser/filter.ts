// The image browser's filter and sort, as the list endpoint takes them (GET /projects/{id}/images) and as
// they appear in the screen's hash (#/images?where=...&set=...), so a filtered view can be bookmarked.
// The annotation state (docs/api.md: unannotated, annotated, suggested, review) also has a --where form,
// `annotation_state = 'annotated'`, so a set made from a filter of where and state keeps both in its query.

import type { QueryValue } from '../api';

export const kSortKeys = ['id', 'source_path', 'acquired_at', 'imported_at', 'focus', 'frame_index', 'width', 'height', 'byte_size'] as const;
export type SortKey = (typeof kSortKeys)[number];

export const kAnnotationStates = ['unannotated', 'annotated', 'suggested', 'review'] as const;
export type AnnotationState = (typeof kAnnotationStates)[number] | '';
export const kAnnotationStateLabels: Record<Exclude<AnnotationState, ''>, string> = {
  unannotated: 'unannotated',
  annotated: 'annotated',
  suggested: 'suggestions to review',
  review: 'flagged for review',
};

export interface ImageFilter {
  where: string;  // the --where language: `frame < 5 and focus > 1e-5`, `meta.well = 'A1'`
  set: string;    // only members of this set ('' = any)
  tag: string;    // only images carrying this whole-image tag ('' = any)
  state: AnnotationState;  // only images in this annotation state ('' = any)
  sort: SortKey;
  order: 'asc' | 'desc';
}

export const kNoFilter: ImageFilter = { where: '', set: '', tag: '', state: '', sort: 'id', order: 'asc' };

export function filterFromParams(params: Record<string, string>): ImageFilter {
  const sort = (kSortKeys as readonly string[]).includes(params.sort ?? '') ? (params.sort as SortKey) : 'id';
  return {
    where: params.where ?? '',
    set: params.set ?? '',
    tag: params.tag ?? '',
    state: (kAnnotationStates as readonly string[]).includes(params.annotation_state ?? '') ? (params.annotation_state as AnnotationState) : '',
    sort,
    order: params.order === 'desc' ? 'desc' : 'asc',
  };
}

export function filterQuery(filter: ImageFilter): Record<string, QueryValue> {
  return {
    where: filter.where.trim() || undefined,
    set: filter.set || undefined,
    tag: filter.tag || undefined,
    annotation_state: filter.state || undefined,
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
  return filter.where.trim() !== '' || filter.set !== '' || filter.tag !== '' || filter.state !== '';
}

// The filter's where and annotation state as one --where text ('' when neither is set): what a set made from
// the filter stores as its query.
export function whereWithState(filter: ImageFilter): string {
  const where = filter.where.trim();
  if (!filter.state) return where;
  const state = `annotation_state = '${filter.state}'`;
  return where ? `${state} and (${where})` : state;
}

// The filter in words, for a set's description when it cannot be stored as the set's query.
export function describeFilter(filter: ImageFilter): string {
  const parts: string[] = [];
  if (filter.where.trim()) parts.push(`where ${filter.where.trim()}`);
  if (filter.set) parts.push(`in set '${filter.set}'`);
  if (filter.tag) parts.push(`tagged '${filter.tag}'`);
  if (filter.state) parts.push(kAnnotationStateLabels[filter.state]);
  return parts.join(', ') || 'all images';
}
