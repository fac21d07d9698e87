// The annotation side panel of the viewer: lock status, tag and colour, the editing tools, undo, the list of
// the frame's annotations and, in a series, propagation. It keeps the overlays and the list in step with the
// server: after each edit and whenever the project's feed reports an annotation change by anyone.

import { ApiError, api } from '../api';
import { append, h } from '../dom';
import { FeedClient } from '../feed';
import type { ImageDetail, Project } from '../types';
import { writeQueueState } from '../writes';
import type { ImageMap } from '../viewer/image_map';
import type { SeriesFrame } from '../viewer/frame_controls';
import { type Annotation, type EditAnswer, deleteAnnotation, deleteSeriesMasks, listAnnotations, undoLast } from './annotation_api';
import { BrushTool } from './brush_tool';
import type { AnnotateContext, Tool } from './context';
import { ImageLock, describeLock, editErrorText } from './image_lock';
import { MaskList } from './mask_list';
import { AnnotationOverlays } from './overlays';
import { PointPromptTool } from './point_prompt_tool';
import { PropagationPanel } from './propagation_panel';
import { SplitTool, mergeTool, polygonTool } from './shape_tools';
import { TagManager } from './tag_manager';

export interface AnnotationPanelOptions {
  image: ImageDetail;
  imageMap: ImageMap;
  frame: () => number;
  series: SeriesFrame[];
}

export interface AnnotationPanel {
  // Another page of a multi-page image is shown: its annotations replace the list; a half-made prompt is dropped.
  frameChanged(): void;
  dispose(): void;
}

// How many of the image's annotations an edit changed, from its answer: an edit answer (merge, split, a
// series delete) or a saved generated mask lists them; an answer that is one annotation is one change.
function changesOnImage(answer: unknown, imageId: number): number {
  if (!answer || typeof answer !== 'object' || !Array.isArray((answer as Partial<EditAnswer>).updated)) return 1;
  const { updated = [], created = [], deleted = [], annotation } = answer as Partial<EditAnswer> & { annotation?: Annotation; deleted?: unknown[] };
  // Ids (a generated mask's deleted overlaps) are of this image; annotations name theirs (a series delete spans images).
  const onImage = (changed: unknown) => typeof changed === 'number' || (changed as Annotation).image_id === imageId;
  const changes = [...updated, ...created, ...deleted, ...(annotation ? [annotation] : [])].filter(onImage).length;
  return Math.max(1, changes);
}

export async function mountAnnotationPanel(side: HTMLElement, options: AnnotationPanelOptions): Promise<AnnotationPanel> {
  const { image, imageMap } = options;
  const project = await api.get<Project>(`/api/v1/projects/${image.project_id}`);
  const canEdit = project.role === 'owner' || project.role === 'editor';

  const statusLine = h('div', { class: 'panel-status small', role: 'status', dataset: { testid: 'annotate-status' } });
  const report = (message: string, isError = false) => {
    statusLine.textContent = message;
    statusLine.classList.toggle('error', isError);
  };
  const lockLine = h('div', { class: 'lock-status small', dataset: { testid: 'lock-status' } }, 'Checking the lock…');
  const lock = new ImageLock(image.id, (state) => {
    lockLine.textContent = describeLock(state);
    lockLine.dataset.state = state.kind;
  });
  let annotations: Annotation[] = [];
  const tags = new TagManager(image.project_id, canEdit, (m) => report(m, true), () => {
    overlays.sync(annotations);
    maskList.render(annotations);
  });
  const overlays = new AnnotationOverlays(imageMap, (a) => a.color ?? tags.tagColor(a.tag_id));
  const refresh = async () => {
    const answer = await listAnnotations(image.id, options.frame());
    annotations = answer.annotations;
    overlays.sync(annotations);
    maskList.render(annotations);
  };
  // This screen's edits, latest last, with how many of the image's annotations each changed: the server's
  // image undo takes back one change per call, and Undo takes back a whole edit (a split changes the original
  // and creates a part per extra marker; a merge grows one mask and deletes the others).
  const undoable: { what: string; changes: number }[] = [];
  const edit = async (what: string, write: () => Promise<unknown>, recordForUndo: boolean): Promise<boolean> => {
    try {
      await lock.ensure().catch((err) => {
        // The server is unreachable: the lease cannot be taken now, but writing needs none, so the edit still
        // waits in the queue; a colleague's lease taken meanwhile refuses it on replay (423), listed in the banner.
        if (!(err instanceof ApiError && err.isNetwork)) throw err;
      });
      // Offline, the write waits in the queue (writes.ts) until the server is back: say so meanwhile.
      const queuedNotice = window.setTimeout(() => {
        if (writeQueueState().pending > 0) report(`Waiting for the server: '${what}' is queued and will be sent when it is back.`);
      }, 500);
      try {
        const answer = await write();
        if (recordForUndo) undoable.push({ what, changes: changesOnImage(answer, image.id) });
      } finally {
        window.clearTimeout(queuedNotice);
      }
      report(`Done: ${what}.`);
      await refresh();
      return true;
    } catch (err) {
      report(editErrorText(what, err), true);
      await refresh().catch(() => undefined);
      return false;
    }
  };
  const runEdit = (what: string, write: () => Promise<unknown>) => edit(what, write, true);
  const seriesId = image.series_id;
  const maskList = new MaskList({
    tagName: (id) => tags.tagName(id),
    tagColor: (id) => tags.tagColor(id),
    isVisible: (id) => overlays.isVisible(id),
    setVisible: (id, visible) => overlays.setVisible(id, visible),
    select: () => undefined,
    show: (a) => imageMap.showBox(a.bbox),
    remove: (a) => void runEdit(`delete annotation ${a.id}`, () => deleteAnnotation(a)),
    removeTagInSeries: seriesId && options.series.length > 1 ? (tagId) => {
      if (!confirm(`Delete every '${tags.tagName(tagId)}' mask in all ${options.series.length} frames of the series?`)) return;
      void runEdit(`delete the '${tags.tagName(tagId)}' masks of the series`, () => deleteSeriesMasks(seriesId, tagId));
    } : null,
  }, canEdit);

  const ctx: AnnotateContext = {
    image, imageMap, frame: options.frame, lock, overlays,
    currentTag: () => tags.current(),
    currentColor: () => tags.currentColor(),
    selected: () => maskList.selected(),
    annotations: () => annotations,
    runEdit, report,
  };
  const tools: Tool[] = canEdit
    ? [new PointPromptTool(ctx), new BrushTool(ctx, false), new BrushTool(ctx, true), polygonTool(ctx), mergeTool(ctx), new SplitTool(ctx)]
    : [];
  let active: Tool | null = null;
  const toolControls = h('div', { class: 'tool-area' });
  const toolButtons = tools.map((tool) => h('button', { class: 'small', dataset: { testid: `tool-${tool.name}` }, onclick: () => choose(tool) }, tool.label));
  const choose = (tool: Tool | null) => {
    active?.deactivate();
    active = tool === active ? null : tool;
    active?.activate();
    toolButtons.forEach((b, i) => b.classList.toggle('active', tools[i] === active));
    toolControls.replaceChildren(active ? active.controls : h('span', { class: 'small muted' }, 'Drag to pan, wheel to zoom. Pick a tool to edit.'));
  };
  // Takes back this screen's last edit whole, or (none left: edits made before the page opened) the last change.
  const undo = () => {
    const last = undoable.pop() ?? { what: '', changes: 1 };
    void edit(last.what ? `undo ${last.what}` : 'undo', async () => {
      for (let i = 0; i < last.changes; ++i) await undoLast(image.id);
    }, false);
  };
  const onKey = (event: KeyboardEvent) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'z' && !(event.target instanceof HTMLInputElement)) {
      event.preventDefault();
      undo();
    }
  };
  if (canEdit) document.addEventListener('keydown', onKey);

  const propagation = seriesId && options.series.length > 1 && canEdit
    ? new PropagationPanel(seriesId, image.frame_index ?? 0, () => tags.current()?.id ?? null, () => lock.ensure(), () => void refresh())
    : null;
  append(side,
    h('section', { class: 'panel-section' }, h('h4', {}, 'Annotate'), lockLine, statusLine),
    tags.element,
    canEdit
      ? h('section', { class: 'panel-section' },
          h('div', { class: 'tool-buttons' }, ...toolButtons,
            h('button', { class: 'small', dataset: { testid: 'undo' }, title: 'Ctrl+Z', onclick: undo }, 'Undo')),
          toolControls)
      : h('p', { class: 'small muted' }, `Your role in this project is ${project.role}: you can look, not edit.`),
    maskList.element,
    propagation ? propagation.element : null);
  choose(null);

  // Colleagues' edits and leases arrive on the feed; reload then (debounced: a propagation sends many).
  let refreshTimer: number | undefined;
  const feed = new FeedClient(image.project_id, {
    onEvent: (event) => {
      if (event.kind.startsWith('annotation.')) {
        window.clearTimeout(refreshTimer);
        refreshTimer = window.setTimeout(() => void refresh().catch(() => undefined), 300);
      } else if (event.kind.startsWith('lock.')) {
        void lock.refresh();
      }
    },
  });
  feed.start();
  await Promise.all([tags.load(), refresh()]);
  // Drawn again now that the tags' colours are known (the list may have come first).
  overlays.sync(annotations);
  maskList.render(annotations);

  return {
    frameChanged: () => {
      const tool = active;
      choose(null);
      if (tool) choose(tool);
      void refresh().catch((err) => report(err instanceof Error ? err.message : String(err), true));
    },
    dispose: () => {
      feed.stop();
      window.clearTimeout(refreshTimer);
      document.removeEventListener('keydown', onKey);
      active?.deactivate();
      propagation?.dispose();
      overlays.dispose();
      lock.dispose();
    },
  };
}
