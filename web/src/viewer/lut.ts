// Lookup tables (colour maps) for grey images: the tile endpoint windows the data to 0..255 grey, and the
// browser maps each grey level through a 256-entry table before drawing the tile. With several channels
// shown as RGB the table is not applied (the tiles are already in colour).

import type ImageTile from 'ol/ImageTile';
import type Tile from 'ol/Tile';

export type LutName = 'grey' | 'inverted' | 'fire' | 'green' | 'magenta' | 'cyan';
export const kLutNames: LutName[] = ['grey', 'inverted', 'fire', 'green', 'magenta', 'cyan'];

// 256 x RGB.
export function lutTable(name: LutName): Uint8ClampedArray {
  const table = new Uint8ClampedArray(256 * 3);
  for (let v = 0; v < 256; ++v) {
    let rgb: [number, number, number];
    switch (name) {
      case 'grey': rgb = [v, v, v]; break;
      case 'inverted': rgb = [255 - v, 255 - v, 255 - v]; break;
      // Black -> red -> yellow -> white, the usual "fire"/"hot" ramp.
      case 'fire': rgb = [v * 3, (v - 85) * 3, (v - 170) * 3]; break;
      case 'green': rgb = [0, v, 0]; break;
      case 'magenta': rgb = [v, 0, v]; break;
      case 'cyan': rgb = [0, v, v]; break;
    }
    table.set(rgb, v * 3);
  }
  return table;
}

// An OpenLayers tile load function that fetches the tile and maps its grey levels (the red channel) through
// the table; alpha is kept, so the transparent edge of edge tiles stays transparent.
export function lutTileLoader(name: LutName): (tile: Tile, src: string) => void {
  const table = lutTable(name);
  return (tile, src) => {
    const target = (tile as ImageTile).getImage() as HTMLImageElement;
    const source = new Image();
    source.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = source.naturalWidth;
      canvas.height = source.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(source, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      const data = pixels.data;
      for (let i = 0; i < data.length; i += 4) {
        const v = data[i] * 3;
        data[i] = table[v];
        data[i + 1] = table[v + 1];
        data[i + 2] = table[v + 2];
      }
      context.putImageData(pixels, 0, 0);
      target.src = canvas.toDataURL();
    };
    // A failed tile fails the target too, so OpenLayers reports it as a tile load error.
    source.onerror = () => { target.src = src; };
    source.src = src;
  };
}
