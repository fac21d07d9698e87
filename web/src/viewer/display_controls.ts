// The viewer's display controls: contrast window (auto percentiles, or min/max by hand; what matters for
// 16-bit and float images, which show nothing useful without one), a colour map for grey images and channel
// toggles. The window and channels make a TileQuery (the viewer turns it into tile URLs); the colour map is
// applied in the browser.

import { h } from '../dom';
import { type LutName, kLutNames } from './lut';
import { type Pyramid, type TileQuery, pixelTypeMax } from './pyramid';

export class DisplayControls {
  readonly element: HTMLElement;
  private query: TileQuery;
  private readonly minInput: HTMLInputElement;
  private readonly maxInput: HTMLInputElement;
  private readonly channelBoxes: HTMLInputElement[] = [];
  private readonly message: HTMLElement;

  constructor(
    private readonly pyramid: Pyramid,
    initial: TileQuery,
    private readonly onChange: (query: TileQuery) => void,
    onLut: (name: LutName) => void,
  ) {
    this.query = initial;
    const resolved = pyramid.window;
    const typeMax = pixelTypeMax(pyramid.pixel_type);
    const isInteger = /^[ui]\d+$/.test(pyramid.pixel_type);
    const span = Math.max(1, resolved.max - resolved.min);
    const sliderMin = isInteger ? (pyramid.pixel_type.startsWith('i') ? -typeMax - 1 : 0) : resolved.min - span;
    const sliderMax = isInteger ? typeMax : resolved.max + span;
    const step = isInteger ? 1 : span / 1000;
    const slider = (value: number, testid: string) =>
      h('input', { type: 'range', min: sliderMin, max: sliderMax, step, value: String(value), dataset: { testid } }) as HTMLInputElement;
    this.minInput = slider(resolved.min, 'window-min');
    this.maxInput = slider(resolved.max, 'window-max');
    this.message = h('span', { class: 'muted small', dataset: { testid: 'window-value' } });
    const commit = () => this.setWindowFromSliders();
    this.minInput.addEventListener('change', commit);
    this.maxInput.addEventListener('change', commit);
    const auto = h('button', { class: 'small', dataset: { testid: 'window-auto' }, onclick: () => this.setAuto() }, 'Auto');
    const full = h('button', { class: 'small', onclick: () => this.setWindow(sliderMin, sliderMax) }, 'Full range');

    const channelRow = h('div', { class: 'channel-toggles' });
    if (pyramid.channels > 1) {
      const selected = new Set(initial.channels ?? pyramid.selected_channels);
      for (let c = 0; c < pyramid.channels; ++c) {
        const box = h('input', { type: 'checkbox', checked: selected.has(c), dataset: { testid: `channel-${c}` } }) as HTMLInputElement;
        box.addEventListener('change', () => this.setChannelsFromBoxes(box));
        this.channelBoxes.push(box);
        channelRow.append(h('label', { class: 'small' }, box, ` ${channelName(c, pyramid.channels)}`));
      }
    }
    const lut = h('select', { class: 'small', title: 'colour map of grey images', dataset: { testid: 'lut' } },
      ...kLutNames.map((name) => h('option', { value: name }, name))) as HTMLSelectElement;
    lut.addEventListener('change', () => onLut(lut.value as LutName));
    this.element = h('div', { class: 'display-controls' },
      h('div', { class: 'control-row' }, h('span', { class: 'small' }, 'Contrast'), this.minInput, this.maxInput, auto, full, lut),
      h('div', { class: 'control-row' }, this.message),
      pyramid.channels > 1 ? h('div', { class: 'control-row' }, h('span', { class: 'small' }, 'Channels'), channelRow) : null);
    this.showWindow(resolved.min, resolved.max, this.query.window ? 'manual' : resolved.mode);
  }

  // After the pyramid description was re-read for a new query: what the auto window resolved to.
  showResolved(pyramid: Pyramid): void {
    if (this.query.window) return;
    this.minInput.value = String(pyramid.window.min);
    this.maxInput.value = String(pyramid.window.max);
    this.showWindow(pyramid.window.min, pyramid.window.max, pyramid.window.mode);
  }

  private showWindow(min: number, max: number, mode: string): void {
    this.message.textContent = `window ${formatValue(min)} .. ${formatValue(max)} (${mode}) · ${this.pyramid.pixel_type}`;
  }

  private setWindowFromSliders(): void {
    let min = Number(this.minInput.value), max = Number(this.maxInput.value);
    if (max <= min) {
      // The server wants max > min; keep the slider the user moved and push the other one aside.
      max = min + Number(this.maxInput.step || 1);
      this.maxInput.value = String(max);
    }
    this.setWindow(min, max);
  }

  setWindow(min: number, max: number): void {
    this.minInput.value = String(min);
    this.maxInput.value = String(max);
    this.query = { ...this.query, window: { min, max }, percentiles: null };
    this.showWindow(min, max, 'manual');
    this.onChange(this.query);
  }

  setAuto(): void {
    this.query = { ...this.query, window: null, percentiles: null };
    this.onChange(this.query);
  }

  private setChannelsFromBoxes(changed: HTMLInputElement): void {
    let chosen = this.channelBoxes.flatMap((box, c) => (box.checked ? [c] : []));
    // The tile endpoint shows one channel as grey, three as RGB or four as RGBA; two would be refused. Of two,
    // the one just ticked is shown alone, or after an untick the first one left.
    if (chosen.length === 2) {
      const keep = changed.checked ? this.channelBoxes.indexOf(changed) : chosen[0];
      this.channelBoxes.forEach((box, c) => { box.checked = c === keep; });
      chosen = [keep];
    }
    if (chosen.length === 0) {
      changed.checked = true;
      return;
    }
    this.query = { ...this.query, channels: chosen.slice(0, 4) };
    this.onChange(this.query);
  }
}

function channelName(index: number, count: number): string {
  if (count === 3 || count === 4) return ['R', 'G', 'B', 'A'][index];
  return `ch${index}`;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
