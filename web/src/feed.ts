// Live activity feed of a project over server-sent events (GET /api/v1/projects/{id}/feed). Read with fetch
// rather than EventSource so the token goes in the Authorization header and a 401 can be told from a network
// failure. After a drop it reconnects with Last-Event-ID, and the server replays what was missed, so
// listeners see every event once, in order.

import { reportNetworkFailure } from './api';
import { session } from './session';

export interface FeedEvent {
  id: number;
  project_id: number;
  at: string;
  kind: string;
  actor: string | number | null;
  subject_type: string | null;
  subject_id: number | null;
  payload: Record<string, unknown>;
}

// The document event that passes each event of the app's one feed connection on to the screens (the feed panel
// dispatches it; the image browser's live grid listens).
export const kFeedEvent = 'tessera:feed-event';

export type FeedStatus = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthorized';

export interface FeedOptions {
  onEvent: (event: FeedEvent) => void;
  onStatus?: (status: FeedStatus) => void;
  lastEventId?: number;      // resume after this event (replayed by the server)
  reconnectDelayMs?: number; // first delay; doubles up to 10 s while the server stays away
}

// Parses the text/event-stream format incrementally: feed it chunks, get complete messages out.
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventName = '';
  private id: string | null = null;
  retryMs: number | null = null;

  push(chunk: string, emit: (message: { id: string | null; event: string; data: string }) => void): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      if (line === '') {
        if (this.data.length > 0) emit({ id: this.id, event: this.eventName || 'message', data: this.data.join('\n') });
        this.data = [];
        this.eventName = '';
        continue;
      }
      if (line.startsWith(':')) continue;  // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.eventName = value;
      else if (field === 'id') this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
  }
}

export class FeedClient {
  private readonly projectId: number;
  private readonly options: FeedOptions;
  private controller: AbortController | null = null;
  private stopped = false;
  private lastEventId: number | null;
  private delayMs: number;
  private timer: number | undefined;

  constructor(projectId: number, options: FeedOptions) {
    this.projectId = projectId;
    this.options = options;
    this.lastEventId = options.lastEventId ?? null;
    this.delayMs = options.reconnectDelayMs ?? 500;
  }

  get lastId(): number | null {
    return this.lastEventId;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.controller?.abort();
    this.setStatus('closed');
  }

  private setStatus(status: FeedStatus): void {
    this.options.onStatus?.(status);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus(this.lastEventId === null ? 'connecting' : 'reconnecting');
    const controller = new AbortController();
    this.controller = controller;
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    const token = session.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (this.lastEventId !== null) headers['Last-Event-ID'] = String(this.lastEventId);
    try {
      const res = await fetch(`/api/v1/projects/${this.projectId}/feed`, { headers, signal: controller.signal, cache: 'no-store' });
      if (res.status === 401) {
        this.setStatus('unauthorized');
        return;  // the next API call sends the user to login
      }
      if (!res.ok || !res.body) throw new Error(`feed answered ${res.status}`);
      this.setStatus('open');
      this.delayMs = this.options.reconnectDelayMs ?? 500;
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value, (message) => this.dispatch(message));
        if (parser.retryMs !== null) this.delayMs = Math.max(this.delayMs, parser.retryMs);
      }
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof TypeError) reportNetworkFailure();
    }
    if (this.stopped) return;
    this.setStatus('reconnecting');
    this.timer = window.setTimeout(() => void this.connect(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, 10000);
  }

  private dispatch(message: { id: string | null; event: string; data: string }): void {
    let event: FeedEvent;
    try {
      event = JSON.parse(message.data) as FeedEvent;
    } catch {
      return;  // a message that is not an event record (none are sent today)
    }
    if (typeof event.id === 'number') {
      if (this.lastEventId !== null && event.id <= this.lastEventId) return;  // replay overlap
      this.lastEventId = event.id;
    }
    this.options.onEvent(event);
  }
}
