// The project's tags with their colours: choose the tag (and colour) new annotations get, add a tag, change
// a tag's colour, delete one. A tag's colour is the default colour of what is drawn with it.

import { api } from '../api';
import { h } from '../dom';
import type { Tag } from '../types';
import { write } from '../writes';

export class TagManager {
  readonly element: HTMLElement;
  private tags: Tag[] = [];
  private currentId: number | null = null;
  private readonly select: HTMLSelectElement;
  private readonly colorInput: HTMLInputElement;
  private readonly list: HTMLElement;

  constructor(
    private readonly projectId: number,
    private readonly canEdit: boolean,
    private readonly onError: (message: string) => void,
    private readonly onChange: () => void,
  ) {
    this.select = h('select', { dataset: { testid: 'tag-select' } }) as HTMLSelectElement;
    this.select.addEventListener('change', () => {
      this.currentId = this.select.value ? Number(this.select.value) : null;
      const tag = this.current();
      if (tag) this.colorInput.value = tag.color;
      this.onChange();
    });
    this.colorInput = h('input', { type: 'color', value: '#ff8800', title: 'colour of new annotations', dataset: { testid: 'annotation-color' } }) as HTMLInputElement;
    this.list = h('ul', { class: 'tag-list' });
    const nameInput = h('input', { placeholder: 'new tag', size: 10, dataset: { testid: 'new-tag-name' } }) as HTMLInputElement;
    const newColor = h('input', { type: 'color', value: '#00c853', dataset: { testid: 'new-tag-color' } }) as HTMLInputElement;
    const add = h('form', { class: 'inline-form', onsubmit: (event: Event) => {
      event.preventDefault();
      void this.create(nameInput.value.trim(), newColor.value).then((ok) => { if (ok) nameInput.value = ''; });
    } }, nameInput, newColor, h('button', { type: 'submit', class: 'small', dataset: { testid: 'add-tag' } }, 'Add tag'));
    this.element = h('section', { class: 'panel-section' },
      h('h4', {}, 'Tag and colour'),
      h('div', { class: 'control-row' }, this.select, this.colorInput),
      h('details', {}, h('summary', { class: 'small' }, 'Manage tags'), this.list, canEdit ? add : null));
  }

  current(): Tag | null {
    return this.tags.find((t) => t.id === this.currentId) ?? null;
  }

  currentColor(): string {
    return this.colorInput.value;
  }

  tagName(id: number | null): string {
    if (id === null) return 'no tag';
    return this.tags.find((t) => t.id === id)?.name ?? `tag ${id}`;
  }

  tagColor(id: number | null): string | null {
    return this.tags.find((t) => t.id === id)?.color ?? null;
  }

  async load(): Promise<void> {
    const answer = await api.get<{ tags: Tag[] }>(`/api/v1/projects/${this.projectId}/tags`);
    this.tags = answer.tags.filter((t) => t.kind !== 'image');
    if (this.currentId === null && this.tags.length > 0) {
      this.currentId = this.tags[0].id;
      this.colorInput.value = this.tags[0].color;
    }
    this.render();
  }

  private render(): void {
    this.select.replaceChildren(h('option', { value: '' }, '(no tag)'),
      ...this.tags.map((t) => h('option', { value: String(t.id), selected: t.id === this.currentId }, t.name)));
    this.list.replaceChildren(...this.tags.map((tag) => {
      const color = h('input', { type: 'color', value: tag.color, disabled: !this.canEdit, dataset: { testid: `tag-color-${tag.name}` } }) as HTMLInputElement;
      color.addEventListener('change', () => void this.recolor(tag, color.value));
      return h('li', { dataset: { tag: tag.name } }, color, ` ${tag.name} `, h('span', { class: 'muted small' }, tag.kind),
        this.canEdit ? h('button', { class: 'small danger', onclick: () => void this.remove(tag) }, '×') : null);
    }));
  }

  private async create(name: string, color: string): Promise<boolean> {
    if (!name) return false;
    try {
      const tag = await write<Tag>({ method: 'POST', path: `/api/v1/projects/${this.projectId}/tags`, body: { name, color, kind: 'label' }, label: `create tag '${name}'` });
      this.currentId = tag.id;
      this.colorInput.value = tag.color;
      await this.load();
      this.onChange();
      return true;
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  private async recolor(tag: Tag, color: string): Promise<void> {
    try {
      await write({ method: 'PATCH', path: `/api/v1/projects/${this.projectId}/tags/${encodeURIComponent(tag.name)}`, body: { color }, label: `recolour tag '${tag.name}'` });
      if (tag.id === this.currentId) this.colorInput.value = color;
      await this.load();
      this.onChange();
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }

  private async remove(tag: Tag): Promise<void> {
    if (!confirm(`Delete tag '${tag.name}'?`)) return;
    try {
      await write({ method: 'DELETE', path: `/api/v1/projects/${this.projectId}/tags/${encodeURIComponent(tag.name)}`, label: `delete tag '${tag.name}'` });
      if (this.currentId === tag.id) this.currentId = null;
      await this.load();
      this.onChange();
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }
}
