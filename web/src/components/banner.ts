// The connection banner: "server unreachable, retrying" with a Retry button while offline, the number of
// edits waiting to be sent, and edits the server refused on replay (kept until dismissed).

import { isOnline, onConnectionChange, probeServer } from '../api';
import { h } from '../dom';
import { dismissRefused, onWriteQueueChange, replayQueue, type WriteQueueState } from '../writes';

export function mountBanner(banner: HTMLElement): void {
  let queueState: WriteQueueState = { pending: 0, refused: [], replaying: false };

  const render = (): void => {
    const online = isOnline();
    const parts: Node[] = [];
    if (!online) {
      parts.push(h('span', { class: 'banner-offline' }, 'The tessera server cannot be reached. Retrying…'));
      parts.push(h('button', { class: 'banner-retry', onclick: () => void probeServer() }, 'Retry now'));
    }
    if (queueState.pending > 0) {
      const noun = queueState.pending === 1 ? 'edit' : 'edits';
      parts.push(h('span', { class: 'banner-pending', dataset: { pending: String(queueState.pending) } },
        `${queueState.pending} ${noun} waiting to be sent${queueState.replaying ? ' (sending…)' : ''}`));
      if (online) parts.push(h('button', { onclick: () => void replayQueue() }, 'Send now'));
    }
    if (queueState.refused.length > 0) {
      const list = h('ul', { class: 'banner-refused' });
      for (const r of queueState.refused) list.append(h('li', {}, `Not saved: ${r.label} — ${r.message}`));
      parts.push(list, h('button', { onclick: () => dismissRefused() }, 'Dismiss'));
    }
    banner.replaceChildren(...parts);
    banner.hidden = parts.length === 0;
    banner.className = online ? (queueState.refused.length ? 'banner-error' : 'banner-info') : 'banner-error';
  };

  onConnectionChange(render);
  onWriteQueueChange((state) => {
    queueState = state;
    render();
  });
  render();
}
