// New uploads appear in the image browser's grid without a reload. The feed panel passes every event of the
// project's stream on as kFeedEvent (feed.ts) on the document (one connection for the whole app). For each
// image.imported, one list request asks the server whether the new image passes the grid's filter (the same
// query with its where narrowed to the image's id: set, tag, annotation state and where are the server's to
// judge) and brings its record; the source then inserts it where the sort puts it (image_source.ts offer).

import { api } from '../api';
import { kFeedEvent, type FeedEvent } from '../feed';
import type { ImagePage } from '../types';
import { filterQuery } from './filter';
import type { ImageSource } from './image_source';

// Follows uploads into projectId for whichever source the screen shows; returns the function that stops.
export function followUploads(projectId: number, currentSource: () => ImageSource | null,
  onError: (error: unknown) => void): () => void {
  async function offer(imageId: number): Promise<void> {
    const source = currentSource();
    if (!source) return;
    const where = source.filter.where.trim();
    try {
      const page = await api.get<ImagePage>(`/api/v1/projects/${projectId}/images`,
        { ...filterQuery(source.filter), where: where ? `id = ${imageId} and (${where})` : `id = ${imageId}`, limit: 1 });
      // A filter applied meanwhile loaded its list after the upload: it holds the image already.
      if (currentSource() !== source) return;
      const image = page.images[0];
      if (image?.id === imageId) source.offer(image);
    } catch (err) {
      onError(err);
    }
  }
  const listener = (e: Event): void => {
    const event = (e as CustomEvent<FeedEvent>).detail;
    if (event.kind === 'image.imported' && event.project_id === projectId && event.subject_id !== null) {
      void offer(event.subject_id);
    }
  };
  document.addEventListener(kFeedEvent, listener);
  return () => document.removeEventListener(kFeedEvent, listener);
}
