// Typed client of the tessera REST API (docs/api.md). Every request carries the Bearer token; JSON errors
// become ApiError with the status and the server's message; a 401 ends the session and returns to the login
// screen with "session expired"; a network failure marks the connection offline, which the banner shows and a
// probe clears once the server answers again. Writes go through writes.ts so none is lost while offline.

import { navigate } from './router';
import { session } from './session';

export class ApiError extends Error {
  readonly status: number;  // HTTP status; 0 when the server could not be reached
  readonly code: string;    // the server's error code (invalid_argument, conflict, ...) or "unavailable"
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  // The request field the server named as the problem, if any.
  get field(): string | undefined {
    const field = this.details.field;
    return typeof field === 'string' ? field : undefined;
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export const kSessionExpired = 'Your session expired. Please log in again.';

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: string;
  query?: Record<string, QueryValue>;
  // A plain object/array is sent as JSON; Blob, ArrayBuffer and FormData are sent as they are.
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  // Login itself answers 401 for a wrong password: that is not an expired session.
  noAuthRedirect?: boolean;
}

export function withQuery(path: string, query?: Record<string, QueryValue>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

// A URL for <img> and other loaders that cannot send headers: the token goes in ?access_token=.
export function authorizedUrl(path: string, query?: Record<string, QueryValue>): string {
  return withQuery(path, { ...query, access_token: session.token() ?? undefined });
}

// ---- connection state: online/offline and the probe that notices the server is back

type ConnectionListener = (online: boolean) => void;
const connectionListeners = new Set<ConnectionListener>();
let online = true;
let probeTimer: number | undefined;
const kProbeIntervalMs = 1000;

export function isOnline(): boolean {
  return online;
}

export function onConnectionChange(listener: ConnectionListener): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

function setOnline(value: boolean): void {
  if (online === value) return;
  online = value;
  for (const listener of connectionListeners) listener(value);
  if (!value) scheduleProbe();
}

function scheduleProbe(): void {
  if (probeTimer !== undefined) return;
  probeTimer = window.setTimeout(async () => {
    probeTimer = undefined;
    if (await probeServer()) setOnline(true);
    else scheduleProbe();
  }, kProbeIntervalMs);
}

// Asks the open /api/v1 endpoint whether the server is there; also called by the banner's "Retry now".
export async function probeServer(): Promise<boolean> {
  try {
    const res = await fetch('/api/v1', { cache: 'no-store' });
    const ok = res.ok;
    if (ok) setOnline(true);
    return ok;
  } catch {
    return false;
  }
}

// Reports a network failure seen outside request() (the feed's stream) so the banner and probe start.
export function reportNetworkFailure(): void {
  setOnline(false);
}

// ---- requests

function encodeBody(options: RequestOptions, headers: Headers): BodyInit | undefined {
  const body = options.body;
  if (body === undefined) return undefined;
  if (body instanceof Blob || body instanceof ArrayBuffer || body instanceof FormData || typeof body === 'string') {
    if (options.contentType) headers.set('Content-Type', options.contentType);
    return body as BodyInit;
  }
  headers.set('Content-Type', 'application/json');
  return JSON.stringify(body);
}

async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
    if (parsed.error) {
      return new ApiError(res.status, parsed.error.code ?? 'error', parsed.error.message ?? res.statusText, parsed.error.details ?? {});
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(res.status, 'http_' + res.status, text.trim() || `${res.status} ${res.statusText}`);
}

// Sends one request and returns the parsed JSON (or undefined for 204). Throws ApiError.
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers = new Headers(options.headers);
  const token = session.token();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  headers.set('Accept', 'application/json');
  const body = encodeBody(options, headers);
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), { method: options.method ?? 'GET', headers, body, signal: options.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    setOnline(false);
    throw new ApiError(0, 'unavailable', 'The tessera server cannot be reached.');
  }
  // A proxy in front of a stopped server (vite's dev server) answers 502/504: the server is down all the same.
  if (res.status === 502 || res.status === 504) {
    setOnline(false);
    throw new ApiError(0, 'unavailable', 'The tessera server cannot be reached.');
  }
  setOnline(true);
  if (res.status === 401 && !options.noAuthRedirect) {
    const error = await errorFrom(res);
    // Several requests in flight get 401 together: the first one ends the session, the rest find it ended.
    if (token && session.token() === token) {
      session.signOut(kSessionExpired);
      navigate('#/login');
    }
    throw error;
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return (await res.blob()) as T;
  return (await res.json()) as T;
}

export const api = {
  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return request<T>(path, { query, signal });
  },
  post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return request<T>(path, { ...options, method: 'POST', body });
  },
  put<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return request<T>(path, { ...options, method: 'PUT', body });
  },
  patch<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return request<T>(path, { ...options, method: 'PATCH', body });
  },
  del<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return request<T>(path, { ...options, method: 'DELETE' });
  },
};
