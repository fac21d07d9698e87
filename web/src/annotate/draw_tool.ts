// A tool that lets the user draw one shape on the map with OpenLayers' Draw interaction and hands over its
// vertices in image pixel coordinates. The brush, eraser, polygon, merge-stroke and split-outline tools
// build on it.

import Draw from 'ol/interaction/Draw';
import VectorSource from 'ol/source/Vector';
import type { Geometry, LineString, Polygon } from 'ol/geom';
import type { ImageMap } from '../viewer/image_map';

export type ImagePoint = [number, number];

export class ShapeDrawer {
  private draw: Draw | null = null;
  private readonly source = new VectorSource();

  constructor(
    private readonly imageMap: ImageMap,
    private readonly type: 'LineString' | 'Polygon',
    private readonly freehand: boolean,
    private readonly onShape: (points: ImagePoint[]) => void,
  ) {}

  start(): void {
    if (this.draw) return;
    this.draw = new Draw({ source: this.source, type: this.type, freehand: this.freehand });
    this.draw.on('drawend', (event) => {
      const geometry = event.feature.getGeometry() as Geometry;
      const coordinates = this.type === 'Polygon'
        ? (geometry as Polygon).getCoordinates()[0].slice(0, -1) // the ring repeats its first vertex
        : (geometry as LineString).getCoordinates();
      const { width, height } = this.imageMap.size;
      const points = coordinates.map((c) => {
        const [x, y] = this.imageMap.toImage(c);
        return [clamp(x, 0, width), clamp(y, 0, height)] as ImagePoint;
      });
      // The drawn feature is not kept: the saved annotation's overlay replaces it.
      setTimeout(() => this.source.clear(), 0);
      this.onShape(points);
    });
    this.imageMap.map.addInteraction(this.draw);
    // A double click ends a polygon; it must not zoom as well.
    this.imageMap.setDoubleClickZoom(false);
  }

  stop(): void {
    if (!this.draw) return;
    this.imageMap.map.removeInteraction(this.draw);
    this.imageMap.setDoubleClickZoom(true);
    this.draw = null;
    this.source.clear();
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

// Rounds to 2 decimals: enough for pixel coordinates, and keeps request bodies short.
export function roundPoints(points: ImagePoint[]): number[][] {
  return points.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
}
