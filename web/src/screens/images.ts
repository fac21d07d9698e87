// The image browser: a virtualised thumbnail grid of the current project, filtered by the --where language,
// set, tag and annotation state, sorted, with new uploads that the filter and sort would show inserted live; selection by click, ctrl-click, shift-range or "all matching the filter"; a set made from
// the selection or from the filter (stored as the set's query); the opened image's details and the sets it is in.

import { api } from '../api';
import { errorText, h } from '../dom';
import { navigate, type RouteParams } from '../router';
import { session } from '../session';
import type { ImageDetail, ImageSet, Tag } from '../types';
import { write } from '../writes';
import { filterFromParams, filterHash, isFiltering, describeFilter, kAnnotationStateLabels, kAnnotationStates, kSortKeys,
  whereWithState, type ImageFilter } from '../browser/filter';
import { ImageSource, type ImageSummary } from '../browser/image_source';
import { followUploads } from '../browser/live_uploads';
import { Selection } from '../browser/selection';
import { thumbnailUrl, VirtualGrid } from '../browser/virtual_grid';

let interactiveMarked = false;

export async function renderImages(outlet: HTMLElement, params: RouteParams): Promise<() => void> {
  const projectId = session.projectId();
  if (projectId === null) {
    navigate('#/projects');
    return () => {};
  }
  let filter = filterFromParams(params);
  let source: ImageSource | null = null;
  const selection = new Selection();

  const whereInput = h('input', { class: 'where-input', placeholder: "where: frame < 5 and focus > 1e-5, meta.well = 'A1', path like '%pos02%'",
    value: filter.where, 'aria-label': 'where filter', spellcheck: false });
  const setSelect = h('select', { 'aria-label': 'set filter' });
  const tagSelect = h('select', { 'aria-label': 'tag filter' });
  const stateSelect = h('select', { 'aria-label': 'annotation state filter' },
    h('option', { value: '' }, 'any annotation state'),
    ...kAnnotationStates.map((s) => h('option', { value: s, selected: s === filter.state }, kAnnotationStateLabels[s])));
  const sortSelect = h('select', { 'aria-label': 'sort' }, ...kSortKeys.map((k) => h('option', { value: k, selected: k === filter.sort }, k)));
  const orderSelect = h('select', { 'aria-label': 'order' },
    h('option', { value: 'asc', selected: filter.order === 'asc' }, 'ascending'),
    h('option', { value: 'desc', selected: filter.order === 'desc' }, 'descending'));
  const filterError = h('pre', { class: 'filter-error', role: 'alert' });
  const setInfo = h('p', { class: 'set-info muted small' });
  let knownSets: ImageSet[] = [];
  const filterForm = h('form', { class: 'filter-bar' }, whereInput, setSelect, tagSelect, stateSelect, sortSelect, orderSelect,
    h('button', { type: 'submit', class: 'primary' }, 'Apply'));

  const countLabel = h('span', { class: 'count-label' });
  const loadingLabel = h('span', { class: 'loading-label muted' });
  const status = h('span', { class: 'toolbar-status', role: 'status' });
  const toolbar = h('div', { class: 'selection-bar' }, countLabel,
    h('button', { class: 'small', onclick: () => { selection.selectAllMatching(); update(); } }, 'Select all matching'),
    h('button', { class: 'small', onclick: () => { selection.clear(); update(); } }, 'Clear selection'),
    h('button', { class: 'small', onclick: () => openSetDialog('selection') }, 'Set from selection…'),
    h('button', { class: 'small', onclick: () => openSetDialog('filter') }, 'Set from filter…'),
    loadingLabel, status);
  const dialogHost = h('div', { class: 'set-dialog-host' });
  const detail = h('aside', { class: 'image-detail' }, h('p', { class: 'muted' }, 'Click an image to see its details; double-click opens the viewer.'));

  const grid = new VirtualGrid({
    onCellClick: (index, image, event) => {
      selection.click(index, image.id, { shift: event.shiftKey, toggle: event.ctrlKey || event.metaKey }, (i) => source?.at(i)?.id);
      update();
      void showDetail(image);
    },
    onCellOpen: (image) => navigate(`#/viewer/${image.id}`),
    isSelected: (id) => selection.isSelected(id),
    onFirstThumbnail: () => performance.mark('tessera:first-tile'),
  });

  outlet.append(h('div', { class: 'images-page' },
    h('div', { class: 'images-main' }, filterForm, filterError, setInfo, toolbar, dialogHost, grid.element), detail));

  function update(): void {
    const total = source?.length ?? 0;
    const selected = selection.count(total);
    countLabel.textContent = `${total.toLocaleString()} images · ${selected.toLocaleString()} selected${selection.mode === 'filter' ? ' (all matching)' : ''}`;
    countLabel.dataset.total = String(total);
    countLabel.dataset.selected = String(selected);
    loadingLabel.textContent = source && !source.isComplete && source.loadedCount < total
      ? `loaded ${source.loadedCount.toLocaleString()} of ${total.toLocaleString()}` : '';
    grid.refresh();
  }

  async function applyFilter(next: ImageFilter): Promise<void> {
    filterError.textContent = '';
    const candidate = new ImageSource(projectId!, next, update, (err) => { status.textContent = errorText(err); });
    try {
      await candidate.start();
    } catch (err) {
      candidate.close();
      // A bad where names its position with a caret: keep the previous results and show the message.
      filterError.textContent = errorText(err);
      return;
    }
    source?.close();
    source = candidate;
    filter = next;
    selection.clear();
    history.replaceState(null, '', filterHash(filter));
    grid.setSource(candidate);
    showSetInfo();
    update();
  }

  // The chosen set's query (how it was made), or that it is a hand-picked list.
  function showSetInfo(): void {
    const set = knownSets.find((s) => s.name === filter.set);
    setInfo.textContent = !set ? '' : set.query
      ? `Set '${set.name}': ${set.image_count.toLocaleString()} images, made from the filter ${set.query}`
      : `Set '${set.name}': ${set.image_count.toLocaleString()} images, picked by hand${set.description ? ` (${set.description})` : ''}`;
  }

  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void applyFilter({ where: whereInput.value, set: setSelect.value, tag: tagSelect.value,
      state: stateSelect.value as ImageFilter['state'], sort: sortSelect.value as ImageFilter['sort'], order: orderSelect.value as ImageFilter['order'] });
  });
  for (const select of [setSelect, tagSelect, stateSelect, sortSelect, orderSelect]) {
    select.addEventListener('change', () => filterForm.requestSubmit());
  }

  async function loadChoices(): Promise<void> {
    const [sets, tags] = await Promise.all([
      api.get<{ sets: ImageSet[] }>(`/api/v1/projects/${projectId}/sets`),
      api.get<{ tags: Tag[] }>(`/api/v1/projects/${projectId}/tags`),
    ]);
    knownSets = sets.sets;
    showSetInfo();
    setSelect.replaceChildren(h('option', { value: '' }, 'any set'),
      ...sets.sets.map((s) => h('option', { value: s.name, selected: s.name === filter.set, title: s.query ?? '' }, `${s.name} (${s.image_count})`)));
    tagSelect.replaceChildren(h('option', { value: '' }, 'any tag'),
      ...tags.tags.filter((t) => t.kind === 'image' || t.kind === 'label').map((t) => h('option', { value: t.name, selected: t.name === filter.tag }, t.name)));
  }

  async function showDetail(summary: ImageSummary): Promise<void> {
    try {
      const image = await api.get<ImageDetail>(`/api/v1/images/${summary.id}`);
      const setNames = image.sets.map((s) => (typeof s === 'string' ? s : String((s as { name?: unknown }).name)));
      const tagNames = image.tags.map((t) => (typeof t === 'string' ? t : String((t as { name?: unknown }).name)));
      const rows: [string, string][] = [
        ['id', String(image.id)],
        ['size', `${image.width} × ${image.height} · ${image.channels} ch · ${image.pixel_type}${image.frames > 1 ? ` · ${image.frames} frames` : ''}`],
        ['series', image.series !== null ? `${image.series} · frame ${image.frame_index ?? '?'}` : '—'],
        ['focus', image.focus !== null ? image.focus.toExponential(3) : '—'],
        ['imported', image.imported_at],
      ];
      for (const [key, value] of Object.entries(image.metadata ?? {})) rows.push([key, String(value)]);
      const setList = h('ul', { class: 'image-sets' }, ...setNames.map((n) => h('li', {}, n)));
      if (setNames.length === 0) setList.append(h('li', { class: 'muted' }, 'in no set'));
      detail.replaceChildren(
        h('img', { class: 'detail-thumb', src: thumbnailUrl(image.id), alt: image.source_path }),
        h('h3', { class: 'detail-path' }, image.source_path),
        h('table', { class: 'detail-table' }, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
        h('h4', {}, 'Sets'), setList,
        h('h4', {}, 'Tags'), h('p', {}, tagNames.join(', ') || '—'),
        h('a', { class: 'open-viewer', href: `#/viewer/${image.id}` }, 'Open in viewer'));
      detail.dataset.imageId = String(image.id);
    } catch (err) {
      detail.replaceChildren(h('p', { class: 'form-error' }, errorText(err)));
    }
  }

  function openSetDialog(from: 'selection' | 'filter'): void {
    const useFilter = from === 'filter' || selection.mode === 'filter';
    const total = source?.length ?? 0;
    const count = useFilter ? total : selection.ids.size;
    if (count === 0) {
      status.textContent = from === 'filter' ? 'The filter matches no image.' : 'Select images first.';
      return;
    }
    const name = h('input', { placeholder: 'set name', required: true, 'aria-label': 'set name' });
    const description = h('input', { placeholder: 'description', 'aria-label': 'set description' });
    const error = h('span', { class: 'form-error' });
    const form = h('form', { class: 'set-dialog card' },
      h('strong', {}, useFilter ? `New set from the filter (${describeFilter(filter)}): ${count.toLocaleString()} images` : `New set from ${count.toLocaleString()} selected images`),
      name, description, h('button', { type: 'submit', class: 'primary' }, 'Create set'),
      h('button', { type: 'button', onclick: () => dialogHost.replaceChildren() }, 'Cancel'), error);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        const body = await setBody(name.value.trim(), description.value.trim(), useFilter);
        const created = await write<ImageSet>({ method: 'POST', path: `/api/v1/projects/${projectId}/sets`, body,
          label: `create set '${body.name}'` });
        dialogHost.replaceChildren();
        status.textContent = `Set '${created.name}' created with ${created.image_count.toLocaleString()} images${created.query ? ` (query: ${created.query})` : ''}.`;
        await loadChoices();
      } catch (err) {
        error.textContent = errorText(err);
      }
    });
    dialogHost.replaceChildren(form);
    name.focus();
  }

  // A filter of `where` and annotation state is stored as the set's query (the state in its --where form); set
  // and tag filters have none, so such a set lists its images and says the filter in its description.
  async function setBody(name: string, description: string, useFilter: boolean): Promise<Record<string, unknown> & { name: string }> {
    if (!useFilter) return { name, description, image_ids: [...selection.ids] };
    if (!isFiltering(filter)) return { name, description, where: 'id > 0' };
    if (!filter.set && !filter.tag) return { name, description, where: whereWithState(filter) };
    const ids = await source!.allIds();
    return { name, description: description || describeFilter(filter), image_ids: ids };
  }

  const stopFollowing = followUploads(projectId, () => source, (err) => { status.textContent = errorText(err); });
  await Promise.all([loadChoices(), applyFilter(filter)]);
  if (!interactiveMarked) {
    interactiveMarked = true;
    requestAnimationFrame(() => performance.mark('tessera:interactive'));
  }
  return () => {
    stopFollowing();
    source?.close();
    grid.destroy();
  };
}
