// The viewer screen (#/viewer/:imageId[?box=x0,y0,x1,y1&frame=F]): the image's tiles in OpenLayers with
// contrast, channels, frames or series playback and a scale bar, and beside it the annotation panel. `box`
// (image pixels) centres the view on a region and `frame` picks a page: the measurement screen links objects
// that way.

import './viewer.css';
import { api } from '../api';
import { h } from '../dom';
import type { Cleanup, RouteParams } from '../router';
import { navigate } from '../router';
import type { ImageDetail } from '../types';
import { type AnnotationPanel, mountAnnotationPanel } from '../annotate/annotation_panel';
import { DisplayControls } from './display_controls';
import { FrameControls, type SeriesFrame, loadSeriesFrames } from './frame_controls';
import { type Box, ImageMap } from './image_map';
import { type TileQuery, loadPyramid } from './pyramid';
import { ScaleBar, pixelSizeFromMetadata } from './scale_bar';

export function parseBox(text: string | undefined): Box | null {
  if (!text) return null;
  const numbers = text.split(',').map(Number);
  if (numbers.length !== 4 || numbers.some((n) => !Number.isFinite(n))) return null;
  return numbers as Box;
}

export async function renderViewer(outlet: HTMLElement, params: RouteParams): Promise<Cleanup> {
  const imageId = Number(params.imageId);
  if (!Number.isInteger(imageId) || imageId <= 0) throw new Error(`viewer: '${params.imageId}' is not an image id`);
  const image = await api.get<ImageDetail>(`/api/v1/images/${imageId}`);
  // `frame` opens a page of a multi-page image (an object measured on it, a link someone shared).
  const page0 = Number(params.frame ?? 0);
  const firstPage = Number.isInteger(page0) && page0 >= 0 && page0 < image.frames ? page0 : 0;
  let query: TileQuery = { frame: firstPage, channels: null, window: null, percentiles: null };
  // Keep the window the user chose while stepping through a series (every frame shown alike).
  const carried = sessionStorage.getItem('tessera.viewer.window');
  if (carried && params.keepWindow) query = { ...query, window: JSON.parse(carried) as { min: number; max: number } };
  const pyramid = await loadPyramid(imageId, query);
  const series: SeriesFrame[] = image.series_id ? await loadSeriesFrames(image.project_id, image.series_id) : [];

  const mapElement = h('div', { class: 'viewer-map', dataset: { testid: 'viewer-map' } });
  const zoomReadout = h('span', { class: 'small muted', dataset: { testid: 'zoom-readout' } });
  const scaleBar = new ScaleBar(pixelSizeFromMetadata(image.metadata));
  const toolbar = h('div', { class: 'viewer-toolbar' });
  const side = h('aside', { class: 'viewer-side' });
  const page = h('div', { class: 'viewer-page' },
    h('div', { class: 'viewer-main' }, toolbar, h('div', { class: 'viewer-map-wrap' }, mapElement, scaleBar.element)), side);
  outlet.append(page);

  const imageMap = new ImageMap(mapElement, pyramid, query);
  const showZoom = () => {
    const resolution = imageMap.resolution();
    scaleBar.update(resolution);
    const percent = 100 / resolution;
    zoomReadout.textContent = `${percent >= 10 ? Math.round(percent) : percent.toPrecision(2)}%`;
    // The view's state as attributes: what a person reads off the screen, for tests and for bug reports.
    mapElement.dataset.resolution = String(resolution);
    const center = imageMap.map.getView().getCenter();
    if (center) [mapElement.dataset.centerX, mapElement.dataset.centerY] = imageMap.toImage(center).map(String);
  };
  imageMap.onViewChange(showZoom);
  let tilesLoaded = 0, tilesFailed = 0;
  imageMap.onTileLoad((ok) => {
    if (ok) mapElement.dataset.tilesLoaded = String(++tilesLoaded);
    else mapElement.dataset.tilesFailed = String(++tilesFailed);
  });
  showZoom();

  const rerender = async (next: TileQuery) => {
    query = next;
    if (query.window) sessionStorage.setItem('tessera.viewer.window', JSON.stringify(query.window));
    const described = await loadPyramid(imageId, query);
    display.showResolved(described);
    imageMap.setRendering(described, query);
  };
  let panel: AnnotationPanel | null = null; // mounted below, once the map exists
  const display = new DisplayControls(pyramid, query, (next) => void rerender(next).catch(showError), (lut) => imageMap.setLut(lut));
  const frames = new FrameControls({
    image,
    series,
    initialPage: firstPage,
    onPage: (frame) => {
      void rerender({ ...query, frame }).catch(showError);
      panel?.frameChanged();
    },
    onSeriesFrame: (frame, playing) => {
      if (playing) {
        // Tiles of the next time point only (same grid when the sizes agree); its annotations load when
        // playback stops on it.
        // With an auto window, the window resolved on the frame playback started from holds for every
        // frame, so brightness changes between frames show instead of being normalised away.
        if (frame.width === pyramid.width && frame.height === pyramid.height) {
          const window = query.window ?? { min: pyramid.window.min, max: pyramid.window.max };
          imageMap.setRendering({ ...pyramid, image_id: frame.imageId, url: pyramid.url.replace(`/images/${imageId}/`, `/images/${frame.imageId}/`) }, { ...query, window });
        }
        return;
      }
      if (frame.imageId !== imageId) navigate(`#/viewer/${frame.imageId}${query.window ? '?keepWindow=1' : ''}`);
    },
  });
  const errorLine = h('span', { class: 'form-error small', dataset: { testid: 'viewer-error' } });
  function showError(err: unknown): void {
    errorLine.textContent = err instanceof Error ? err.message : String(err);
  }
  toolbar.append(
    h('div', { class: 'control-row' },
      h('strong', {}, image.source_path),
      h('span', { class: 'small muted' }, `${image.width} x ${image.height} · ${image.pixel_type} · ${image.channels} ch`),
      h('button', { class: 'small', dataset: { testid: 'zoom-in' }, onclick: () => imageMap.zoomBy(1) }, '+'),
      h('button', { class: 'small', dataset: { testid: 'zoom-out' }, onclick: () => imageMap.zoomBy(-1) }, '−'),
      h('button', { class: 'small', onclick: () => imageMap.fitImage() }, 'Fit'),
      zoomReadout,
      h('a', { href: `#/measure/${imageId}`, class: 'small' }, 'Measurements'),
      errorLine),
    display.element,
    frames.element);

  panel = await mountAnnotationPanel(side, { image, imageMap, frame: () => query.frame, series });
  // Fit once the toolbar and panel have taken their room, so the whole image (or the asked box) shows.
  imageMap.map.updateSize();
  const box = parseBox(params.box);
  if (box) {
    imageMap.showBox(box);
    imageMap.highlightBox(box);
  } else {
    imageMap.fitImage();
  }
  return () => {
    frames.stop();
    panel?.dispose();
    imageMap.dispose();
  };
}
