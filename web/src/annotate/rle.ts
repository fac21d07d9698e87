// Masks as the API sends and takes them: COCO's uncompressed run-length encoding over the bbox, runs in
// column-major order (down the first column, then the next), starting with a run of 0s (docs/api/annotations.md).
// In the browser a mask is a row-major array of 0/1 bytes, the layout canvases and painting want.

export interface Rle {
  size: [number, number]; // [height, width]
  counts: number[];
}

// A binary mask over a box of the image; data[y * width + x] is 1 inside.
export interface BitMask {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodeRle(rle: Rle): BitMask {
  const [height, width] = rle.size;
  if (!(height > 0 && width > 0)) throw new Error(`mask_rle: size ${JSON.stringify(rle.size)} is not a positive [h, w]`);
  const data = new Uint8Array(width * height);
  let position = 0; // column-major index
  let value = 0;
  for (const run of rle.counts) {
    if (value === 1) {
      for (let i = position; i < position + run && i < data.length; ++i) {
        const x = Math.floor(i / height);
        const y = i - x * height;
        data[y * width + x] = 1;
      }
    }
    position += run;
    value ^= 1;
  }
  if (position !== width * height) {
    throw new Error(`mask_rle: counts add up to ${position}, expected ${width * height} (${height} x ${width})`);
  }
  return { width, height, data };
}

export function encodeRle(mask: BitMask): Rle {
  const { width, height, data } = mask;
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let x = 0; x < width; ++x) {
    for (let y = 0; y < height; ++y) {
      const bit = data[y * width + x] ? 1 : 0;
      if (bit !== value) {
        counts.push(run);
        value = bit;
        run = 0;
      }
      ++run;
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

// The smallest box holding every set pixel, as [x0, y0, x1, y1] half-open, or null for an empty mask.
export function setPixelsBox(mask: BitMask): [number, number, number, number] | null {
  let x0 = mask.width, y0 = mask.height, x1 = -1, y1 = -1;
  for (let y = 0; y < mask.height; ++y) {
    for (let x = 0; x < mask.width; ++x) {
      if (!mask.data[y * mask.width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

// The part of `mask` inside the box (relative to the mask's own origin).
export function cropMask(mask: BitMask, box: [number, number, number, number]): BitMask {
  const [x0, y0, x1, y1] = box;
  const width = x1 - x0, height = y1 - y0;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; ++y) {
    data.set(mask.data.subarray((y0 + y) * mask.width + x0, (y0 + y) * mask.width + x1), y * width);
  }
  return { width, height, data };
}

// RGBA pixels for drawing the mask on a canvas: `rgba` inside, transparent outside.
export function maskToImageData(mask: BitMask, rgba: [number, number, number, number]): ImageData {
  const image = new ImageData(mask.width, mask.height);
  for (let i = 0; i < mask.data.length; ++i) {
    if (!mask.data[i]) continue;
    image.data.set(rgba, i * 4);
  }
  return image;
}

// '#rrggbb' -> [r, g, b, alpha]; anything else falls back to red, the server's default overlay colour.
export function hexToRgba(color: string | null | undefined, alpha = 128): [number, number, number, number] {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color ?? '');
  if (!match) return [255, 0, 0, alpha];
  return [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16), alpha];
}
