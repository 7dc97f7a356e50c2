import type { UpgradeEvent } from '../harness/index.js';
import type { DeploymentState } from '../promotion/index.js';

/** What `GET /events` streams; the SSE `event:` field is `type`. */
export const CONTROLLER_EVENT_TYPES = [
  'upgrade-started',
  'upgrade-step',
  'upgrade-finished',
  'deployment',
  'deployment-error',
  'deployment-settled',
] as const;
export type ControllerEventType = (typeof CONTROLLER_EVENT_TYPES)[number];

export interface DeploymentTransitionView {
  from: DeploymentState;
  to: DeploymentState;
  event: string;
  reason: string;
  at: string;
}

export type ControllerEvent =
  | { type: 'upgrade-started'; id: string; at: string }
  | { type: 'upgrade-step'; id: string; event: UpgradeEvent }
  | { type: 'upgrade-finished'; id: string; outcome: 'passed' | 'warnings' | 'failed'; exit_code: number; error?: Record<string, unknown> }
  | { type: 'deployment'; id: string; upgrade_id: string; state: DeploymentState; version: number; transitions: DeploymentTransitionView[] }
  | { type: 'deployment-error'; id: string; error: Record<string, unknown> }
  /** The background drive ended: the last step's effects (e.g. stopping the old lane) are done. */
  | { type: 'deployment-settled'; id: string; state: DeploymentState };

export type Subscriber = (event: ControllerEvent & { seq: number }) => void;

/**
 * In-process fan-out from the operations (upgrade steps, deployment transitions) to the SSE
 * streams. Synchronous and memoryless: a subscriber sees what is published after it subscribed.
 */
export class EventBus {
  private readonly subscribers = new Set<Subscriber>();
  private seq = 0;

  publish(event: ControllerEvent): void {
    const numbered = { ...event, seq: ++this.seq };
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber(numbered);
      } catch {
        // One broken stream must not stop the others; the SSE layer removes it on close.
      }
    }
  }

  /** Returns the function that unsubscribes. */
  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  get size(): number {
    return this.subscribers.size;
  }
}
