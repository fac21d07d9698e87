// Edits (any write a user makes: a set, a tag, an annotation) go through this queue so none is lost when the
// server is unreachable: a write that fails for the network waits here, in order, persisted in localStorage,
// and is replayed when the connection comes back. A replayed write the server refuses (409 stale version, 423
// locked, ...) is reported as refused, with the server's message: never dropped silently. While anything is
// queued, later writes queue behind it so they reach the server in the order they were made.

import { ApiError, isOnline, onConnectionChange, request } from './api';

export interface WriteRequest {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;  // JSON-able; Blob/ArrayBuffer bodies queue in memory only (not across a reload)
  contentType?: string;
  headers?: Record<string, string>;
  label: string;   // what the user did, in words: "create set 'late'"
}

interface QueuedWrite extends WriteRequest {
  id: number;
  queuedAt: string;
}

export interface RefusedWrite {
  label: string;
  message: string;
  status: number;
}

export interface WriteQueueState {
  pending: number;
  refused: RefusedWrite[];
  replaying: boolean;
}

type Settle = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

const kStorageKey = 'tessera.pending_writes';
const queue: QueuedWrite[] = loadQueue();
const waiters = new Map<number, Settle>();
const refused: RefusedWrite[] = [];
const listeners = new Set<(state: WriteQueueState) => void>();
let nextId = queue.reduce((max, w) => Math.max(max, w.id), 0) + 1;
let replaying = false;

function isPersistable(body: unknown): boolean {
  return !(body instanceof Blob || body instanceof ArrayBuffer || body instanceof FormData);
}

function loadQueue(): QueuedWrite[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(kStorageKey) ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as QueuedWrite[]) : [];
  } catch {
    return [];
  }
}

function saveQueue(): void {
  localStorage.setItem(kStorageKey, JSON.stringify(queue.filter((w) => isPersistable(w.body))));
}

function state(): WriteQueueState {
  return { pending: queue.length, refused: [...refused], replaying };
}

function notify(): void {
  const snapshot = state();
  for (const listener of listeners) listener(snapshot);
}

export function onWriteQueueChange(listener: (state: WriteQueueState) => void): () => void {
  listeners.add(listener);
  listener(state());
  return () => listeners.delete(listener);
}

export function writeQueueState(): WriteQueueState {
  return state();
}

export function dismissRefused(): void {
  refused.length = 0;
  notify();
}

function send<T>(write: WriteRequest): Promise<T> {
  return request<T>(write.path, {
    method: write.method,
    body: write.body,
    contentType: write.contentType,
    headers: write.headers,
  });
}

function enqueue<T>(write: WriteRequest): Promise<T> {
  const queued: QueuedWrite = { ...write, id: nextId++, queuedAt: new Date().toISOString() };
  queue.push(queued);
  saveQueue();
  notify();
  const settled = new Promise<T>((resolve, reject) => {
    waiters.set(queued.id, { resolve: resolve as (value: unknown) => void, reject });
  });
  // Queued behind earlier writes while the server is up (a replay stopped by an expired session): try now.
  if (isOnline()) void replayQueue();
  return settled;
}

// Sends a write now, or queues it when the server is unreachable. The promise settles when the server has
// answered: with its answer, or with its ApiError (a refusal). It stays pending while the write waits.
export async function write<T>(request: WriteRequest): Promise<T> {
  if (queue.length > 0 || !isOnline()) return enqueue<T>(request);
  try {
    return await send<T>(request);
  } catch (err) {
    if (err instanceof ApiError && err.isNetwork) return enqueue<T>(request);
    throw err;
  }
}

// Replays queued writes in order until the queue is empty or the server is unreachable again.
export async function replayQueue(): Promise<void> {
  if (replaying || queue.length === 0) return;
  replaying = true;
  notify();
  try {
    while (queue.length > 0) {
      const head = queue[0];
      let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await send<unknown>(head) };
      } catch (err) {
        // Unreachable again, or the session expired (the user logs in and the queue replays then): keep it.
        if (err instanceof ApiError && (err.isNetwork || err.status === 401)) return;
        outcome = { ok: false, error: err };
      }
      queue.shift();
      saveQueue();
      const waiter = waiters.get(head.id);
      waiters.delete(head.id);
      if (outcome.ok) {
        waiter?.resolve(outcome.value);
      } else {
        const error = outcome.error;
        refused.push({
          label: head.label,
          message: error instanceof Error ? error.message : String(error),
          status: error instanceof ApiError ? error.status : 0,
        });
        waiter?.reject(error);
      }
      notify();
    }
  } finally {
    replaying = false;
    notify();
  }
}

onConnectionChange((isUp) => {
  if (isUp) void replayQueue();
});
