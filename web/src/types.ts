// Records of the REST API as the UI reads them (docs/api.md). Only the fields the UI uses are typed.

export type Role = 'owner' | 'editor' | 'viewer';

export interface Project {
  id: number;
  name: string;
  description: string;
  created_at: string;
  role: Role;
  counts?: Record<string, number>;
}

export interface Member {
  id: number;
  name: string;
  display_name: string;
  role: Role;
}

export interface ImageRecord {
  id: number;
  project_id: number;
  source_path: string;
  format: string;
  byte_size: number;
  width: number;
  height: number;
  channels: number;
  pixel_type: string;
  frames: number;
  acquired_at: string | null;
  imported_at: string;
  metadata: Record<string, unknown>;
  focus: number | null;
  series_id: number | null;
  series: string | null;
  frame_index: number | null;
}

export interface ImageDetail extends ImageRecord {
  sets: unknown[];
  tags: unknown[];
}

export interface ImagePage {
  images: ImageRecord[];
  next_cursor: string | null;
  total?: number;
}

export interface ImageSet {
  id: number;
  name: string;
  description: string;
  query: string | null;
  created_at: string;
  image_count: number;
}

export interface Tag {
  id: number;
  name: string;
  color: string;
  kind: string;
  parent: string | null;
}

export interface Series {
  id: number;
  name: string;
  kind: string;
  frame_count: number;
}
