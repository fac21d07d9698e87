// What the annotation tools share: the map, the image and frame, the lease, the overlays, the tag and colour
// chosen for new annotations, the selected annotation, and one way to run an edit (take the lease, write,
// reload the list, say what went wrong in words).

import type { ImageDetail, Tag } from '../types';
import type { ImageMap } from '../viewer/image_map';
import type { Annotation } from './annotation_api';
import type { ImageLock } from './image_lock';
import type { AnnotationOverlays } from './overlays';

export interface AnnotateContext {
  image: ImageDetail;
  imageMap: ImageMap;
  frame(): number;
  lock: ImageLock;
  overlays: AnnotationOverlays;
  currentTag(): Tag | null;
  currentColor(): string;
  selected(): Annotation | null;
  // The frame's annotations as listed (without their masks), in drawing order: later ones are drawn on top.
  annotations(): Annotation[];
  // Takes the lease, runs the write, reloads the list; reports failures (who holds the lock, stale versions).
  // Resolves true when the write went through.
  runEdit(what: string, write: () => Promise<unknown>): Promise<boolean>;
  report(message: string, isError?: boolean): void;
}

// One editing tool: its own controls in the panel and its map interactions while active.
export interface Tool {
  readonly name: string;
  readonly label: string;
  readonly controls: HTMLElement;
  activate(): void;
  deactivate(): void;
}
