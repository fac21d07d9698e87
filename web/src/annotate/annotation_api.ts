// The annotation endpoints the annotation panel calls (docs/api/annotations.md, masks.md, mask_edits.md,
// propagation.md), typed. Edits go through the write queue (writes.ts), so one made while the server is down
// waits and replays instead of being lost; previews and lock calls do not (a late preview or lease is useless).

import { api } from '../api';
import { write } from '../writes';
import type { Rle } from './rle';

export type AnnotationKind = 'mask' | 'polygon' | 'box' | 'point' | 'polyline' | 'skeleton' | 'scribble';

export interface Annotation {
  id: number;
  image_id: number;
  frame_index: number;
  tag_id: number | null;
  kind: AnnotationKind;
  geometry?: unknown;
  bbox: [number, number, number, number];
  color: string | null;
  source: string;
  confidence: number | null;
  needs_review: boolean;
  attributes: Record<string, unknown>;
  author: string;
  version: number;
  deleted: boolean;
  mask_rle?: Rle;
}

export interface EditAnswer {
  updated: Annotation[];
  created: Annotation[];
  deleted: Annotation[];
}

export interface GenerateAnswer {
  mask: { bbox: [number, number, number, number]; mask_rle: Rle };
  confidence: number;
  segmenter: string;
  annotation?: Annotation;
  updated: Annotation[];
  deleted: number[];
}

export type PromptPoint = [number, number, '+' | '-'];

const ifMatch = (version: number) => ({ 'If-Match': `"${version}"` });

export function listAnnotations(imageId: number, frame: number): Promise<{ annotations: Annotation[]; truncated: boolean }> {
  return api.get(`/api/v1/images/${imageId}/annotations`, { frame, limit: 10000 });
}

export function previewMask(imageId: number, frame: number, points: PromptPoint[], signal?: AbortSignal): Promise<GenerateAnswer> {
  return api.post(`/api/v1/images/${imageId}/masks:generate`, { points, frame }, { signal });
}

export function saveGeneratedMask(imageId: number, frame: number, points: PromptPoint[], tagId: number | null, color: string): Promise<GenerateAnswer> {
  const body: Record<string, unknown> = { points, frame, mask_color: color, save: true };
  if (tagId !== null) body.tag_id = tagId;
  return write({ method: 'POST', path: `/api/v1/images/${imageId}/masks:generate`, body, label: `accept a generated mask on image ${imageId}` });
}

export function createAnnotation(imageId: number, body: Record<string, unknown>, label: string): Promise<Annotation> {
  return write({ method: 'POST', path: `/api/v1/images/${imageId}/annotations`, body, label });
}

export function patchAnnotation(annotation: Annotation, body: Record<string, unknown>, label: string): Promise<Annotation> {
  return write({ method: 'PATCH', path: `/api/v1/annotations/${annotation.id}`, body, headers: ifMatch(annotation.version), label });
}

export function getAnnotationWithMask(id: number): Promise<Annotation> {
  return api.get(`/api/v1/annotations/${id}`, { mask: 'rle' });
}

export function deleteAnnotation(annotation: Annotation): Promise<Annotation> {
  return write({ method: 'DELETE', path: `/api/v1/annotations/${annotation.id}`, headers: ifMatch(annotation.version), label: `delete annotation ${annotation.id}` });
}

export function deleteSeriesMasks(seriesId: number, tagId: number): Promise<EditAnswer> {
  return write({ method: 'DELETE', path: `/api/v1/series/${seriesId}/masks?tag_id=${tagId}`, label: `delete every mask of tag ${tagId} in series ${seriesId}` });
}

export function undoLast(imageId: number): Promise<Annotation> {
  return write({ method: 'POST', path: `/api/v1/images/${imageId}/annotations/undo`, body: {}, label: `undo on image ${imageId}` });
}

export function mergeByStroke(imageId: number, frame: number, points: number[][], width: number): Promise<EditAnswer> {
  return write({ method: 'POST', path: `/api/v1/images/${imageId}/masks:merge`, body: { stroke: { points, width }, frame_index: frame }, label: `merge masks on image ${imageId}` });
}

export function splitMask(annotation: Annotation, markers: number[][], outline: number[][] | null): Promise<EditAnswer> {
  const body: Record<string, unknown> = { markers };
  if (outline && outline.length >= 2) body.outline = { points: outline, width: 3 };
  return write({ method: 'POST', path: `/api/v1/annotations/${annotation.id}:split`, body, headers: ifMatch(annotation.version), label: `split mask ${annotation.id}` });
}

export interface Job {
  id: number;
  kind: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: number;
  message: string | null;
  result: Record<string, unknown> | null;
}

export function propagate(seriesId: number, frame: number, tagId: number, direction: string, minConfidence: number): Promise<{ job: Job }> {
  return api.post(`/api/v1/series/${seriesId}/masks:propagate`, { frame, tag_id: tagId, direction, min_confidence: minConfidence });
}

export function getJob(id: number): Promise<Job> {
  return api.get(`/api/v1/jobs/${id}`);
}
