// The image lease while someone edits (docs/api/annotations.md, Locks). The lease is taken at the first edit,
// renewed while the screen is open, and released when the user leaves (also on closing the tab, with a
// keepalive request). Everyone's screen polls who holds the image, so a colleague's lease is shown before
// they run into it; a 409/423 names the holder.

import { ApiError, api } from '../api';
import { session } from '../session';

export interface Lease {
  image_id: number;
  locked: boolean;
  holder?: string;
  holder_id?: number;
  expires_at?: string;
  token?: string;
}

export type LockState =
  | { kind: 'free' }
  | { kind: 'mine'; expiresAt: string }
  | { kind: 'other'; holder: string; expiresAt: string }
  | { kind: 'unknown' };

const kPollEveryMs = 4_000;

// The lease asked for: 120 s, renewed every third of that, so two renewals in a row may fail (a server
// restart, a throttled background tab) before it lapses, and a tab that closes without releasing it (a crash,
// no network) blocks colleagues for at most that long. A browser may ask for another length in
// localStorage 'tessera.lease_seconds' (5 to 3600): the browser tests use a few seconds to watch renewals
// and expiry happen.
export function leaseSeconds(): number {
  const asked = Number(localStorage.getItem('tessera.lease_seconds'));
  return Number.isFinite(asked) && asked >= 5 && asked <= 3600 ? asked : 120;
}

// "image 3 is locked by 'alice' until 12:01:30": the holder of a 409/423 answer, or null for other errors.
export function holderOf(err: unknown): { holder: string; expiresAt: string } | null {
  if (!(err instanceof ApiError) || (err.status !== 409 && err.status !== 423)) return null;
  const holder = err.details.holder;
  if (typeof holder !== 'string') return null;
  return { holder, expiresAt: String(err.details.expires_at ?? '') };
}

export function describeLock(state: LockState): string {
  switch (state.kind) {
    case 'free': return 'Not locked: your first edit locks the image for you.';
    case 'mine': return `You hold the lock (until ${clock(state.expiresAt)}).`;
    case 'other': return `Locked by ${state.holder} until ${clock(state.expiresAt)}: you can look, not edit.`;
    case 'unknown': return 'Lock state unknown.';
  }
}

// Words for a failed edit: who holds the lock, or the server's own message (which names the field).
export function editErrorText(what: string, err: unknown): string {
  const held = holderOf(err);
  if (held) return `Cannot ${what}: the image is locked by ${held.holder} until ${clock(held.expiresAt)}.`;
  if (err instanceof ApiError && err.status === 409) return `Cannot ${what}: ${err.message}. The list was reloaded; try again.`;
  return `Cannot ${what}: ${err instanceof Error ? err.message : String(err)}`;
}

function clock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

export class ImageLock {
  private token: string | null = null;
  private renewTimer: number | undefined;
  private pollTimer: number | undefined;
  private state: LockState = { kind: 'unknown' };
  private disposed = false;
  private readonly unload = () => this.releaseOnUnload();

  constructor(private readonly imageId: number, private readonly onState: (state: LockState) => void) {
    window.addEventListener('pagehide', this.unload);
    void this.refresh();
  }

  get current(): LockState {
    return this.state;
  }

  private setState(state: LockState): void {
    if (this.disposed) return;
    this.state = state;
    this.onState(state);
  }

  private fromLease(lease: Lease): LockState {
    if (!lease.locked || !lease.holder) return { kind: 'free' };
    const me = session.user();
    if (me && lease.holder_id === me.id) return { kind: 'mine', expiresAt: lease.expires_at ?? '' };
    return { kind: 'other', holder: lease.holder, expiresAt: lease.expires_at ?? '' };
  }

  // Asks who holds the image now (also called when the feed reports a lock event), then every few seconds.
  async refresh(): Promise<void> {
    window.clearTimeout(this.pollTimer);
    try {
      const lease = await api.get<Lease>(`/api/v1/images/${this.imageId}/lock`);
      // Our own lease is renewed by the timer; the poll only reports it.
      this.setState(this.fromLease(lease));
      if (this.state.kind !== 'mine') this.token = null;
    } catch {
      // Offline: the banner says so; keep the last state.
    }
    if (!this.disposed) this.pollTimer = window.setTimeout(() => void this.refresh(), kPollEveryMs);
  }

  // Takes (or renews) the lease before an edit. Throws the server's ApiError when someone else holds it.
  async ensure(): Promise<void> {
    if (this.token && this.state.kind === 'mine') return;
    try {
      const lease = await api.post<Lease>(`/api/v1/images/${this.imageId}/lock`, { ttl_seconds: leaseSeconds() });
      this.token = lease.token ?? null;
      this.setState(this.fromLease(lease));
      this.scheduleRenew();
    } catch (err) {
      const held = holderOf(err);
      if (held) this.setState({ kind: 'other', holder: held.holder, expiresAt: held.expiresAt });
      throw err;
    }
  }

  private scheduleRenew(): void {
    window.clearTimeout(this.renewTimer);
    this.renewTimer = window.setTimeout(async () => {
      if (!this.token) return;
      try {
        const lease = await api.post<Lease>(`/api/v1/images/${this.imageId}/lock/renew`, { token: this.token, ttl_seconds: leaseSeconds() });
        this.setState(this.fromLease(lease));
      } catch (err) {
        // Lost it (expired and taken): the next edit asks again and reports who has it.
        if (err instanceof ApiError && !err.isNetwork) this.token = null;
      }
      if (this.token) this.scheduleRenew();
    }, (leaseSeconds() * 1000) / 3);
  }

  private releaseOnUnload(): void {
    if (!this.token) return;
    const token = session.token();
    void fetch(`/api/v1/images/${this.imageId}/lock`, {
      method: 'DELETE', keepalive: true,
      headers: { 'X-Lock-Token': this.token, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    }).catch(() => undefined);
    this.token = null;
  }

  async release(): Promise<void> {
    window.clearTimeout(this.renewTimer);
    if (!this.token) return;
    const token = this.token;
    this.token = null;
    await api.del(`/api/v1/images/${this.imageId}/lock`, { headers: { 'X-Lock-Token': token } }).catch(() => undefined);
  }

  dispose(): void {
    this.disposed = true;
    window.clearTimeout(this.pollTimer);
    window.removeEventListener('pagehide', this.unload);
    void this.release();
  }
}
