// A scale bar for the viewer: a bar of a round physical length (1, 2 or 5 x 10^n) about a fifth of the view
// wide. The physical pixel size comes from the image's metadata when an importer or uploader recorded one;
// without it the bar counts image pixels, which is still the truth about what is on screen.

export interface PixelSize {
  size: number; // physical length of one pixel
  unit: string; // 'µm', 'nm', 'mm', ...
}

// Keys seen in microscopy metadata (OME's PhysicalSizeX, ImageJ-style names, our own snake_case), in the
// order they are trusted. A value may be a number or a numeric string.
const kPixelSizeKeys: Array<[string, string]> = [
  ['pixel_size_um', 'µm'],
  ['pixel_size_nm', 'nm'],
  ['microns_per_pixel', 'µm'],
  ['um_per_pixel', 'µm'],
  ['PhysicalSizeX', 'µm'],
  ['pixel_size', 'µm'],
];

export function pixelSizeFromMetadata(metadata: Record<string, unknown> | null | undefined): PixelSize | null {
  if (!metadata) return null;
  for (const [key, defaultUnit] of kPixelSizeKeys) {
    const raw = metadata[key];
    const size = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (!(Number.isFinite(size) && size > 0)) continue;
    const unitKey = key === 'PhysicalSizeX' ? 'PhysicalSizeXUnit' : key === 'pixel_size' ? 'pixel_size_unit' : '';
    const unit = unitKey && typeof metadata[unitKey] === 'string' ? String(metadata[unitKey]) : defaultUnit;
    return { size, unit };
  }
  return null;
}

// The longest of 1, 2, 5 x 10^n not above `limit` (limit > 0).
export function roundLengthBelow(limit: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(limit)));
  for (const step of [5, 2, 1]) {
    if (step * power <= limit) return step * power;
  }
  return power;
}

export interface ScaleBarLayout {
  widthPx: number; // on screen
  label: string;
}

// `imagePixelsPerScreenPixel` is the view's resolution; `targetPx` the widest the bar may be on screen.
export function scaleBarLayout(imagePixelsPerScreenPixel: number, pixelSize: PixelSize | null, targetPx = 120): ScaleBarLayout {
  const unitPerImagePixel = pixelSize ? pixelSize.size : 1;
  const unit = pixelSize ? pixelSize.unit : 'px';
  const length = roundLengthBelow(targetPx * imagePixelsPerScreenPixel * unitPerImagePixel);
  const widthPx = length / unitPerImagePixel / imagePixelsPerScreenPixel;
  const text = length >= 1 ? String(length) : length.toPrecision(1);
  return { widthPx, label: `${text} ${unit}` };
}

// Keeps an element showing the bar for the current resolution.
export class ScaleBar {
  readonly element: HTMLDivElement;
  private readonly bar: HTMLDivElement;
  private readonly text: HTMLSpanElement;

  constructor(private readonly pixelSize: PixelSize | null) {
    this.element = document.createElement('div');
    this.element.className = 'scale-bar';
    this.element.dataset.testid = 'scale-bar';
    this.bar = document.createElement('div');
    this.bar.className = 'scale-bar-line';
    this.text = document.createElement('span');
    this.element.append(this.bar, this.text);
  }

  update(imagePixelsPerScreenPixel: number): void {
    const layout = scaleBarLayout(imagePixelsPerScreenPixel, this.pixelSize);
    this.bar.style.width = `${Math.round(layout.widthPx)}px`;
    this.text.textContent = layout.label;
  }
}
