// Which images are selected in the browser: an explicit set of ids (click, ctrl-click, shift-range), or
// "every image matching the filter" without listing them (so selecting 100,000 images costs nothing until a
// set is made from them).

export type SelectionMode = 'ids' | 'filter';

export class Selection {
  mode: SelectionMode = 'ids';
  readonly ids = new Set<number>();
  private anchor: number | null = null;  // index of the last plain or ctrl click, where a shift-range starts

  isSelected(id: number): boolean {
    return this.mode === 'filter' || this.ids.has(id);
  }

  // count of the selection given the filter's total.
  count(total: number): number {
    return this.mode === 'filter' ? total : this.ids.size;
  }

  // A click on the row at index with image id. idAt maps a row index to its id (loaded rows only).
  click(index: number, id: number, keys: { shift: boolean; toggle: boolean }, idAt: (i: number) => number | undefined): void {
    if (this.mode === 'filter') {
      // Leaving "all matching" for a hand-made selection starts over from this click.
      this.mode = 'ids';
      this.ids.clear();
    }
    if (keys.shift && this.anchor !== null) {
      const [from, to] = this.anchor <= index ? [this.anchor, index] : [index, this.anchor];
      if (!keys.toggle) this.ids.clear();
      for (let i = from; i <= to; ++i) {
        const rowId = idAt(i);
        if (rowId !== undefined) this.ids.add(rowId);
      }
      return;
    }
    if (keys.toggle) {
      if (this.ids.has(id)) this.ids.delete(id);
      else this.ids.add(id);
    } else {
      this.ids.clear();
      this.ids.add(id);
    }
    this.anchor = index;
  }

  selectAllMatching(): void {
    this.mode = 'filter';
    this.ids.clear();
    this.anchor = null;
  }

  clear(): void {
    this.mode = 'ids';
    this.ids.clear();
    this.anchor = null;
  }
}
