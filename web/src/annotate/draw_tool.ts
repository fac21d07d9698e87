// Map input for the editing tools, in image pixel coordinates: one drawn shape at a time with OpenLayers'
// Draw interaction (brush, eraser, polygon, merge stroke, split outline), and clicked points drawn as markers
// (+/- prompt points, split markers).

import Feature from 'ol/Feature';
import type MapBrowserEvent from 'ol/MapBrowserEvent';
import Draw from 'ol/interaction/Draw';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import Point from 'ol/geom/Point';
import type { Geometry, LineString, Polygon } from 'ol/geom';
import { Circle, Fill, Stroke, Style } from 'ol/style';
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

// Mask edits (a merge stroke, a split outline: docs/api/mask_edits.md) take pixel indices, as their markers
// do: (x, y) is the centre of pixel (x, y) and must lie inside [0, width - 1] x [0, height - 1]. Drawn points
// are image coordinates, where pixel i covers [i, i + 1): shift them by half a pixel, so the stroke runs where
// it was drawn rather than half a pixel right of and below it, and keep a stroke drawn to the far edge inside.
export function strokeInPixelIndices(points: ImagePoint[], size: { width: number; height: number }): number[][] {
  return roundPoints(points.map(([x, y]) => [clamp(x - 0.5, 0, size.width - 1), clamp(y - 0.5, 0, size.height - 1)]));
}

// Clicks on the image as whole-pixel points, each drawn as a marker until cleared. The listener is 'click',
// not 'singleclick', so quick clicks all count instead of waiting to see whether they make a double click;
// double-click zoom is off meanwhile. `onPoint` returns the marker's style, or null to ignore the click.
export class ClickMarkers {
  private readonly source = new VectorSource();
  private readonly layer = new VectorLayer({ source: this.source, zIndex: 30 });
  private readonly onClick = (event: MapBrowserEvent) => {
    const [x, y] = this.imageMap.toImage(event.coordinate);
    const { width, height } = this.imageMap.size;
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const point: ImagePoint = [Math.floor(x), Math.floor(y)];
    const style = this.onPoint(point, event.originalEvent.shiftKey);
    if (!style) return;
    const feature = new Feature(new Point(this.imageMap.toMap(point[0] + 0.5, point[1] + 0.5)));
    feature.setStyle(style);
    this.source.addFeature(feature);
  };

  constructor(private readonly imageMap: ImageMap, private readonly onPoint: (point: ImagePoint, shiftKey: boolean) => Style | null) {}

  start(): void {
    this.imageMap.addLayer(this.layer);
    this.imageMap.map.on('click', this.onClick);
    this.imageMap.setDoubleClickZoom(false);
  }

  stop(): void {
    this.imageMap.map.un('click', this.onClick);
    this.imageMap.setDoubleClickZoom(true);
    this.imageMap.removeLayer(this.layer);
    this.clear();
  }

  clear(): void {
    this.source.clear();
  }
}

// A round marker of a tool's colour.
export function markerStyle(fill: string, stroke = '#fff'): Style {
  return new Style({ image: new Circle({ radius: 6, fill: new Fill({ color: fill }), stroke: new Stroke({ color: stroke, width: 2 }) }) });
}
