// The frame's annotations as a list: colour, kind, tag, where it came from, confidence and a review flag;
// a visibility toggle (only this browser's view), select (for the brush, eraser and split), jump to it, and
// delete. Deleting every mask of a tag through the whole series is one call (DELETE /series/{sid}/masks).

import { h } from '../dom';
import type { Annotation } from './annotation_api';

export interface MaskListActions {
  tagName(id: number | null): string;
  tagColor(id: number | null): string | null;
  isVisible(id: number): boolean;
  setVisible(id: number, visible: boolean): void;
  select(annotation: Annotation | null): void;
  show(annotation: Annotation): void;
  remove(annotation: Annotation): void;
  removeTagInSeries: ((tagId: number) => void) | null; // null outside a series
}

export class MaskList {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly seriesActions: HTMLElement;
  private selectedId: number | null = null;
  private annotations: Annotation[] = [];

  constructor(private readonly actions: MaskListActions, private readonly canEdit: boolean) {
    this.body = h('ul', { class: 'mask-list', dataset: { testid: 'mask-list' } });
    this.seriesActions = h('div', { class: 'control-row' });
    this.element = h('section', { class: 'panel-section' }, h('h4', {}, 'Annotations on this frame'), this.body, this.seriesActions);
  }

  selected(): Annotation | null {
    return this.annotations.find((a) => a.id === this.selectedId) ?? null;
  }

  render(annotations: Annotation[]): void {
    this.annotations = annotations;
    if (!annotations.some((a) => a.id === this.selectedId)) this.selectedId = null;
    if (annotations.length === 0) {
      this.body.replaceChildren(h('li', { class: 'muted small' }, 'None yet.'));
    } else {
      this.body.replaceChildren(...annotations.map((a) => this.row(a)));
    }
    const tagIds = [...new Set(annotations.filter((a) => a.kind === 'mask' && a.tag_id !== null).map((a) => a.tag_id as number))];
    const removeTag = this.actions.removeTagInSeries;
    this.seriesActions.replaceChildren(...(removeTag && this.canEdit ? tagIds.map((tagId) =>
      h('button', { class: 'small danger', dataset: { testid: `delete-tag-series-${tagId}` }, onclick: () => removeTag(tagId) },
        `Delete all '${this.actions.tagName(tagId)}' masks in the series`)) : []));
  }

  private row(a: Annotation): HTMLElement {
    const color = a.color ?? this.actions.tagColor(a.tag_id) ?? '#ff0000';
    const visible = h('input', { type: 'checkbox', checked: this.actions.isVisible(a.id), title: 'show', dataset: { testid: `mask-visible-${a.id}` } }) as HTMLInputElement;
    visible.addEventListener('change', () => this.actions.setVisible(a.id, visible.checked));
    const review = a.needs_review ? h('span', { class: 'review-flag', title: String(a.attributes.review_reason ?? 'needs review') }, 'review') : null;
    const row = h('li', { class: a.id === this.selectedId ? 'selected' : '', dataset: { testid: `mask-row-${a.id}`, annotationId: String(a.id) } },
      visible,
      h('span', { class: 'swatch', style: `background:${color}` }),
      h('button', { class: 'link', title: 'select', dataset: { testid: `mask-select-${a.id}` }, onclick: () => this.toggleSelect(a) }, `#${a.id} ${a.kind}`),
      h('span', { class: 'small' }, this.actions.tagName(a.tag_id)),
      h('span', { class: 'small muted' }, `${a.source}${a.confidence !== null ? ` ${a.confidence.toFixed(2)}` : ''} · ${a.author}`),
      review,
      h('button', { class: 'small', title: 'zoom to it', onclick: () => this.actions.show(a) }, 'Zoom'),
      this.canEdit ? h('button', { class: 'small danger', title: 'delete', dataset: { testid: `mask-delete-${a.id}` }, onclick: () => this.actions.remove(a) }, 'Delete') : null);
    return row;
  }

  private toggleSelect(a: Annotation): void {
    this.selectedId = this.selectedId === a.id ? null : a.id;
    this.actions.select(this.selected());
    this.render(this.annotations);
  }
}
