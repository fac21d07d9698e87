// The tile pyramid of an image as GET /api/v1/images/{id}/tiles describes it (docs/api/tiles.md), and the
// query that selects a rendering of it (frame, channels, contrast window).

import { api } from '../api';

export interface PyramidWindow {
  mode: string;
  percentiles?: [number, number];
  min: number;
  max: number;
}

export interface Pyramid {
  image_id: number;
  width: number;
  height: number;
  tile_size: number;
  min_zoom: number;
  max_zoom: number;
  resolutions: number[];
  frames: number;
  channels: number;
  pixel_type: string;
  frame: number;
  selected_channels: number[];
  window: PyramidWindow;
  url: string;
}

// What the tile URLs carry. A null window means the server's default (8-bit as is, else auto percentiles).
export interface TileQuery {
  frame: number;
  channels: number[] | null; // null: the server's default selection
  window: { min: number; max: number } | null;
  percentiles: [number, number] | null;
}

export function tileQueryParams(query: TileQuery): Record<string, string | number | undefined> {
  return {
    frame: query.frame || undefined,
    channels: query.channels ? query.channels.join(',') : undefined,
    min: query.window ? query.window.min : undefined,
    max: query.window ? query.window.max : undefined,
    percentiles: !query.window && query.percentiles ? query.percentiles.join(',') : undefined,
  };
}

export function loadPyramid(imageId: number, query: TileQuery): Promise<Pyramid> {
  return api.get<Pyramid>(`/api/v1/images/${imageId}/tiles`, tileQueryParams(query));
}

// The largest value the image's pixel type can hold, for the contrast sliders' range.
export function pixelTypeMax(pixelType: string): number {
  switch (pixelType) {
    case 'u8': return 255;
    case 'u16': return 65535;
    case 'i16': return 32767;
    default: return 65535;
  }
}
