import { isWvoError } from '../../../common/src/errors.js';
import { soakErrors } from './errors.js';

/** A journal entry as `GET /journal` returns it (the worker's shape; sent back as `wvo/replay` unchanged). */
export interface LiveEntry {
  readonly seq: number;
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly status: 'open' | 'ok' | 'error' | 'failed';
  readonly answer_sha256: string | null;
  readonly error_code: string | null;
  readonly at: string;
  readonly times: readonly string[];
  readonly ids: Record<string, number[]>;
  readonly runs: readonly unknown[];
}

export interface JournalHeadView {
  readonly head: number;
  readonly last_seq: number;
  readonly oldest: number | null;
  readonly open: ReadonlyArray<{ seq: number; tool: string; at: string }>;
  readonly floor: number | null;
}

export interface JournalPage {
  readonly head: number;
  readonly last_seq: number;
  readonly entries: readonly LiveEntry[];
  /** How long the worker held the request (`wait`); absent from a worker without the long-poll. */
  readonly waited_ms?: number;
}

/**
 * The soak's only contact with the live lane: pull-based reads of its journal and the retention
 * floor, each a short HTTP request with a timeout, so the live lane is never blocked by the soak.
 */
export class JournalClient {
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  head(): Promise<JournalHeadView> {
    return this.request<JournalHeadView>('/journal/head');
  }

  /** False once the worker refused `wait` (older than the long-poll): pages are asked for without it. */
  private longPoll = true;

  /**
   * Entries after `after`. With `waitMs`, a worker with the long-poll holds an empty page until a
   * commit brings an entry (or the wait ends); an older one answers at once, or refuses the
   * parameter, and is asked again without it from then on.
   */
  async page(after: number, limit: number, waitMs = 0, signal?: AbortSignal): Promise<JournalPage> {
    const path = `/journal?after=${after}&limit=${limit}`;
    if (waitMs <= 0 || !this.longPoll) return this.request<JournalPage>(path, { ...(signal ? { signal } : {}) });
    try {
      return await this.request<JournalPage>(`${path}&wait=${Math.round(waitMs)}`, { extraMs: waitMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (!(isWvoError(error) && error.details?.['refused'] === 'wait')) throw error;
      this.longPoll = false;
      return this.request<JournalPage>(path, { ...(signal ? { signal } : {}) });
    }
  }

  /** Retention never prunes seq >= floor (null clears it). */
  async setFloor(seq: number | null): Promise<void> {
    await this.request('/journal/floor', { method: 'PUT', body: JSON.stringify({ seq }) });
  }

  private async request<T>(path: string, init: { method?: string; body?: string; extraMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const where = `${this.url}${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
        ...(init.body ? { body: init.body } : {}),
        signal: init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(this.timeoutMs + (init.extraMs ?? 0))]) : AbortSignal.timeout(this.timeoutMs + (init.extraMs ?? 0)),
      });
    } catch (error) {
      throw soakErrors.create('WVO_SOAK_JOURNAL_UNREACHABLE', `${where}: ${(error as Error).message}`, {
        subject: where,
        hint: 'Is the live lane running? `wvo lanes` lists it.',
        cause: error,
      });
    }
    const text = await response.text();
    let body: { error?: { code?: string; message?: string; details?: unknown } } & Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // A worker without the route (older than the journal) answers fastify's plain 404.
    }
    if (response.ok) return body as T;
    const code = body.error?.code;
    const message = body.error?.message ?? `HTTP ${response.status}`;
    if (code === 'WVO_JOURNAL_PARAM_INVALID' && (body.error as { subject?: string }).subject === 'wait') {
      throw soakErrors.create('WVO_SOAK_JOURNAL_UNREACHABLE', `${where}: this worker has no long-poll (${message})`, { subject: where, details: { refused: 'wait' } });
    }
    if (code === 'WVO_JOURNAL_PRUNED') {
      throw soakErrors.create('WVO_SOAK_JOURNAL_GAP', `${where}: ${message}`, { subject: 'journal', details: body.error?.details as Record<string, unknown> | undefined, hint: 'The soak must fork again (`wvo soak start`).' });
    }
    if (code === 'WVO_JOURNAL_AFTER_HEAD') {
      throw soakErrors.create('WVO_SOAK_JOURNAL_REWRITTEN', `${where}: ${message}`, { subject: 'journal', details: body.error?.details as Record<string, unknown> | undefined, hint: 'The live state was restored or replaced: fork again.' });
    }
    if (response.status === 404 && (code === undefined || code === 'FST_ERR_NOT_FOUND' || /not found/i.test(message) && code !== 'WVO_ADMIN_DISABLED')) {
      throw soakErrors.create('WVO_SOAK_NO_JOURNAL', `${where} answers 404: the live worker keeps no call journal`, {
        subject: where,
        hint: 'Upgrade the live worker to one with the call journal (migration 005) before soaking against it.',
      });
    }
    throw soakErrors.create('WVO_SOAK_JOURNAL_UNREACHABLE', `${where}: ${code ?? response.status}: ${message}`, {
      subject: where,
      hint: code === 'WVO_ADMIN_DISABLED' || code === 'WVO_ADMIN_UNAUTHORIZED' ? 'Set WVO_ADMIN_TOKEN to the live lanes\' admin token.' : 'Read the live lane\'s log.',
    });
  }
}
