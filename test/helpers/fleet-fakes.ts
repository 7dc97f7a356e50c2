import type { MemberPlane } from '../../controller/src/fleet/index.js';
import type { DeploymentRecord, UpgradeSummary } from '../../controller/src/promotion/index.js';

/**
 * A fleet member made small: an in-memory orchestrator serving `blue`, whose promotion settles
 * as the test says after 30 ms (fleet runner and fleet route tests; no Docker, no proxy).
 */
export type Outcome = 'promoted' | 'rolled_back';

export class SmallOrchestrator implements MemberPlane {
  readonly deployments = new Map<string, DeploymentRecord>();
  readonly upgrades: UpgradeSummary[] = [];
  readonly events: string[] = [];
  /** What each begin was given (the promotion options, as the fleet passed them). */
  readonly begun: Array<Record<string, unknown>> = [];
  image = 'img:1';
  constructor(readonly name: string, private readonly outcome: Outcome, private readonly log: string[]) {}
  async serving(): Promise<{ lane: string | null; image: string | null }> {
    return { lane: 'blue', image: this.image };
  }
  recordUpgrade(summary: UpgradeSummary) {
    this.upgrades.push(summary);
  }
  async begin(input: Record<string, unknown>) {
    const deployment = { id: `${this.name}-d1`, upgradeId: String(input.upgradeId), state: 'shadowed', rollback: null } as unknown as DeploymentRecord;
    this.deployments.set(deployment.id, deployment);
    this.begun.push(input);
    this.log.push(`begin ${this.name}`);
    const done = new Promise<DeploymentRecord>((resolve) =>
      setTimeout(() => {
        const settled = { ...deployment, state: this.outcome, rollback: this.outcome === 'rolled_back' ? { reason: 'error rate 40 % > 5 %' } : null } as unknown as DeploymentRecord;
        this.deployments.set(deployment.id, settled);
        if (this.outcome === 'promoted') this.image = 'img:2';
        this.log.push(`${this.outcome} ${this.name}`);
        resolve(settled);
      }, 30),
    );
    return { deployment, done };
  }
  async resume(id: string) {
    this.log.push(`resume ${this.name}`);
    const settled = { ...this.deployments.get(id)!, state: this.outcome } as DeploymentRecord;
    this.deployments.set(id, settled);
    return settled;
  }
  async rollback(id: string, reason: string) {
    this.log.push(`rollback ${this.name}: ${reason}`);
    const back = { ...this.deployments.get(id)!, state: 'rolled_back' } as DeploymentRecord;
    this.deployments.set(id, back);
    this.image = 'img:1';
    return back;
  }
  find(id: string) {
    return this.deployments.get(id);
  }
  findByUpgrade(upgradeId: string) {
    return [...this.deployments.values()].find((d) => d.upgradeId === upgradeId);
  }
  async close() {}
}

