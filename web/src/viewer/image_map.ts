// An OpenLayers map showing one image's tile pyramid in image pixel coordinates. OpenLayers wants y up, so
// image pixel (x, y) (y down) is map coordinate (x, -y); the extent is [0, -height, width, 0]. Zoom runs from
// the whole image in one tile to a few screen pixels per image pixel (beyond full resolution tiles are
// magnified without smoothing, so single pixels can be seen and clicked).

import 'ol/ol.css';
import Map from 'ol/Map';
import View from 'ol/View';
import TileLayer from 'ol/layer/Tile';
import XYZ from 'ol/source/XYZ';
import TileGrid from 'ol/tilegrid/TileGrid';
import Projection from 'ol/proj/Projection';
import { defaults as defaultControls } from 'ol/control/defaults';
import DoubleClickZoom from 'ol/interaction/DoubleClickZoom';
import Feature from 'ol/Feature';
import { fromExtent } from 'ol/geom/Polygon';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import { Stroke, Style } from 'ol/style';
import type { Coordinate } from 'ol/coordinate';
import type BaseLayer from 'ol/layer/Base';
import type ImageTile from 'ol/ImageTile';
import type Tile from 'ol/Tile';
import { authorizedUrl } from '../api';
import { type LutName, lutTileLoader } from './lut';
import { type Pyramid, type TileQuery, tileQueryParams } from './pyramid';

// Resolutions past full resolution: 1 image pixel over 2, 4, 8 and 16 screen pixels.
const kMagnifications = [0.5, 0.25, 0.125, 0.0625];

export type Box = [number, number, number, number]; // [x0, y0, x1, y1] in image pixels, half-open

export class ImageMap {
  readonly map: Map;
  readonly projection: Projection;
  readonly extent: [number, number, number, number];
  private readonly tiles: XYZ;
  private pyramid: Pyramid;
  private query: TileQuery;

  constructor(target: HTMLElement, pyramid: Pyramid, query: TileQuery) {
    this.pyramid = pyramid;
    this.query = query;
    this.extent = [0, -pyramid.height, pyramid.width, 0];
    this.projection = new Projection({ code: `tessera-image-${pyramid.image_id}`, units: 'pixels', extent: this.extent });
    this.tiles = new XYZ({
      url: this.tileUrl(),
      projection: this.projection,
      tileGrid: new TileGrid({ extent: this.extent, origin: [0, 0], resolutions: pyramid.resolutions, tileSize: pyramid.tile_size }),
      interpolate: false,
      crossOrigin: null,
    });
    const view = new View({
      projection: this.projection,
      extent: this.extent,
      constrainOnlyCenter: true,
      resolutions: [...pyramid.resolutions, ...kMagnifications],
    });
    this.map = new Map({
      target,
      layers: [new TileLayer({ source: this.tiles, preload: 1 })],
      view,
      controls: defaultControls({ attribution: false, rotate: false }),
    });
    view.fit(this.extent, { padding: [8, 8, 8, 8] });
  }

  private tileUrl(): string {
    // authorizedUrl percent-encodes the braces; XYZ needs them literal to fill in z, x and y.
    return authorizedUrl(this.pyramid.url, tileQueryParams(this.query)).replace(/%7B/gi, '{').replace(/%7D/gi, '}');
  }

  // Shows another rendering (frame, channels, window) of the same image, or another image of the same size.
  setRendering(pyramid: Pyramid, query: TileQuery): void {
    this.pyramid = pyramid;
    this.query = query;
    this.tiles.setUrl(this.tileUrl());
  }

  // A colour map for grey tiles; 'grey' draws the tiles as they come.
  setLut(name: LutName): void {
    const defaultLoader = (tile: Tile, src: string) => { ((tile as ImageTile).getImage() as HTMLImageElement).src = src; };
    this.tiles.setTileLoadFunction(name === 'grey' ? defaultLoader : lutTileLoader(name));
    this.tiles.refresh();
  }

  get imageId(): number {
    return this.pyramid.image_id;
  }

  get size(): { width: number; height: number } {
    return { width: this.pyramid.width, height: this.pyramid.height };
  }

  addLayer(layer: BaseLayer): void {
    this.map.addLayer(layer);
  }

  removeLayer(layer: BaseLayer): void {
    this.map.removeLayer(layer);
  }

  // Image pixel coordinates (x right, y down, fractional) of a map coordinate.
  toImage(coordinate: Coordinate): [number, number] {
    return [coordinate[0], -coordinate[1]];
  }

  toMap(x: number, y: number): Coordinate {
    return [x, -y];
  }

  // The map extent covering an image box.
  boxExtent(box: Box): [number, number, number, number] {
    return [box[0], -box[3], box[2], -box[1]];
  }

  // Image pixels per screen pixel.
  resolution(): number {
    return this.map.getView().getResolution() ?? 1;
  }

  zoomBy(delta: number): void {
    const view = this.map.getView();
    view.setZoom((view.getZoom() ?? 0) + delta);
  }

  fitImage(): void {
    this.map.getView().fit(this.extent, { padding: [8, 8, 8, 8] });
  }

  // Centres on a box, zoomed so that it fills about a third of the view.
  showBox(box: Box): void {
    const [x0, y0, x1, y1] = box;
    const margin = Math.max(x1 - x0, y1 - y0);
    this.map.getView().fit(this.boxExtent([x0 - margin, y0 - margin, x1 + margin, y1 + margin]), { maxZoom: undefined });
  }

  // Tools that take clicks turn double-click zoom off: two quick clicks are two points, not a zoom.
  setDoubleClickZoom(enabled: boolean): void {
    for (const interaction of this.map.getInteractions().getArray()) {
      if (interaction instanceof DoubleClickZoom) interaction.setActive(enabled);
    }
  }

  // Called after every tile load (ok = false when the server refused or failed it).
  onTileLoad(listener: (ok: boolean) => void): void {
    this.tiles.on('tileloadend', () => listener(true));
    this.tiles.on('tileloaderror', () => listener(false));
  }

  // Outlines a box (an object opened from the measurements) until the screen closes.
  highlightBox(box: Box): void {
    const feature = new Feature(fromExtent(this.boxExtent(box)));
    feature.setStyle(new Style({ stroke: new Stroke({ color: '#ffdc00', width: 2, lineDash: [6, 4] }) }));
    this.map.addLayer(new VectorLayer({ source: new VectorSource({ features: [feature] }), zIndex: 40 }));
  }

  onViewChange(listener: () => void): void {
    this.map.getView().on('change:resolution', listener);
    this.map.on('moveend', listener);
  }

  dispose(): void {
    this.map.setTarget(undefined);
    this.map.dispose();
  }
}
