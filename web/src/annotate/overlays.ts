// Annotations drawn over the image: each one is the server's RGBA overlay (GET /api/v1/annotations/{id}/mask.png,
// every kind rasterised in its colour) placed at its bbox, one OpenLayers image layer each, so hiding one is
// a visibility flag and a changed one reloads alone. The live preview of a generated mask is drawn the same
// way from the RLE the server answered, through a canvas.

import ImageLayer from 'ol/layer/Image';
import Static from 'ol/source/ImageStatic';
import { authorizedUrl } from '../api';
import type { ImageMap } from '../viewer/image_map';
import type { Annotation } from './annotation_api';
import { type BitMask, hexToRgba, maskToImageData } from './rle';

export class AnnotationOverlays {
  private readonly layers = new Map<number, { key: string; layer: ImageLayer<Static> }>();
  private readonly hidden = new Set<number>();
  private preview: ImageLayer<Static> | null = null;

  // colorOf: the colour to draw an annotation in ("#rrggbb": its own, else its tag's), or null for the
  // server's default.
  constructor(private readonly imageMap: ImageMap, private readonly colorOf: (annotation: Annotation) => string | null) {}

  private drawColor(annotation: Annotation): string | undefined {
    const color = this.colorOf(annotation);
    return color ? `${color.replace('#', '')}80` : undefined;
  }

  private layerFor(annotation: Annotation): ImageLayer<Static> {
    const [x0, y0, x1, y1] = annotation.bbox;
    const source = new Static({
      // The version in the URL makes a changed annotation a new image for the browser and OpenLayers.
      url: authorizedUrl(`/api/v1/annotations/${annotation.id}/mask.png`, { v: annotation.version, color: this.drawColor(annotation) }),
      imageExtent: this.imageMap.boxExtent([x0, y0, x1, y1]),
      projection: this.imageMap.projection,
      interpolate: false,
    });
    const layer = new ImageLayer({ source, zIndex: 10 });
    layer.set('annotationId', annotation.id);
    return layer;
  }

  // Shows exactly these annotations (the frame's current list).
  sync(annotations: Annotation[]): void {
    const keep = new Set(annotations.map((a) => a.id));
    for (const [id, entry] of this.layers) {
      if (!keep.has(id)) {
        this.imageMap.removeLayer(entry.layer);
        this.layers.delete(id);
      }
    }
    for (const annotation of annotations) {
      // A new version or another colour (its tag recoloured) is a new overlay image.
      const key = `${annotation.version}/${this.drawColor(annotation) ?? ''}`;
      const entry = this.layers.get(annotation.id);
      if (entry && entry.key === key) continue;
      if (entry) this.imageMap.removeLayer(entry.layer);
      const layer = this.layerFor(annotation);
      layer.setVisible(!this.hidden.has(annotation.id));
      this.imageMap.addLayer(layer);
      this.layers.set(annotation.id, { key, layer });
    }
  }

  setVisible(id: number, visible: boolean): void {
    if (visible) this.hidden.delete(id);
    else this.hidden.add(id);
    this.layers.get(id)?.layer.setVisible(visible);
  }

  isVisible(id: number): boolean {
    return !this.hidden.has(id);
  }

  // Draws a mask over [x0, y0, x1, y1] as the preview (null clears it).
  showPreview(mask: BitMask | null, bbox: [number, number, number, number] | null, color: string): void {
    if (this.preview) this.imageMap.removeLayer(this.preview);
    this.preview = null;
    if (!mask || !bbox) return;
    const canvas = document.createElement('canvas');
    canvas.width = mask.width;
    canvas.height = mask.height;
    canvas.getContext('2d')!.putImageData(maskToImageData(mask, hexToRgba(color, 140)), 0, 0);
    this.preview = new ImageLayer({
      source: new Static({ url: canvas.toDataURL(), imageExtent: this.imageMap.boxExtent(bbox), projection: this.imageMap.projection, interpolate: false }),
      zIndex: 20,
    });
    this.imageMap.addLayer(this.preview);
  }

  dispose(): void {
    for (const entry of this.layers.values()) this.imageMap.removeLayer(entry.layer);
    this.layers.clear();
    this.showPreview(null, null, '');
  }
}
