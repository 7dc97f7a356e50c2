import { systemClock, type Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { DeploymentStore } from '../promotion/index.js';
import type { FleetRecord } from './fleet-record.js';
import { FleetRunner } from './fleet-runner.js';
import { FleetStore } from './fleet-store.js';
import { resolveFleetTargets, type FleetTarget } from './fleet-targets.js';
import { openMemberPlane, type MemberPlane } from './member-plane.js';

export interface FleetContextInput {
  config: WvoConfig;
  /** The config's directory (relative deployment states and token files). */
  projectRoot: string;
  /** The fleet controller's state root: its controller.db holds the fleet records and the staged upgrade. */
  stateRoot: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: Logger;
  leaseTtlMs?: number;
  /** How a member is reached (default: its proxy, runtime and controller.db from config). */
  open?: (target: FleetTarget) => Promise<MemberPlane>;
}

/** One command's fleet: targets checked from config (coded errors before anything opens), the runner, the stores. */
export class FleetControl {
  readonly targets: FleetTarget[];
  readonly store: FleetStore;
  readonly runner: FleetRunner;
  private readonly upgrades: DeploymentStore;

  constructor(private readonly input: FleetContextInput) {
    this.targets = resolveFleetTargets(input.config, input.projectRoot);
    this.store = FleetStore.open(input.stateRoot);
    this.upgrades = DeploymentStore.open(input.stateRoot);
    const clock = input.clock ?? systemClock;
    this.runner = new FleetRunner({
      config: input.config,
      targets: this.targets,
      store: this.store,
      upgrades: this.upgrades,
      open: input.open ?? ((target) => openMemberPlane(target, { config: input.config, baseDir: input.projectRoot, clock, ...(input.env ? { env: input.env } : {}), ...(input.logger ? { logger: input.logger } : {}) })),
      clock,
      ...(input.logger ? { logger: input.logger } : {}),
      ...(input.leaseTtlMs !== undefined ? { leaseTtlMs: input.leaseTtlMs } : {}),
    });
  }

  /** `wvo status --fleet`: the newest fleet record and, per deployment, what serves now. */
  async status(): Promise<FleetStatus> {
    const fleet = this.store.list(1)[0] ?? null;
    const open = this.input.open ?? ((target: FleetTarget) => openMemberPlane(target, { config: this.input.config, baseDir: this.input.projectRoot, ...(this.input.env ? { env: this.input.env } : {}) }));
    const rows = await Promise.all(
      this.targets.map(async (target): Promise<FleetStatusRow> => {
        const member = fleet?.members.find((m) => m.name === target.name);
        let serving: FleetStatusRow['serving'];
        try {
          const plane = await open(target);
          try {
            serving = await plane.serving();
          } finally {
            await plane.close();
          }
        } catch (error) {
          serving = { lane: null, image: null, error: (error as Error).message };
        }
        return {
          name: target.name,
          where: target.placement.kind === 'host' ? `host ${target.placement.host}` : target.placement.kind === 'node' ? `node ${target.placement.node}` : 'local',
          app: target.app,
          wave: member ? member.wave + 1 : null,
          state: member?.state ?? null,
          deploymentId: member?.deploymentId ?? null,
          reason: member?.reason ?? null,
          serving,
        };
      }),
    );
    return { fleet, deployments: rows };
  }

  close(): void {
    this.store.close();
    this.upgrades.close();
  }
}

export interface FleetStatusRow {
  name: string;
  where: string;
  app: string;
  wave: number | null;
  state: string | null;
  deploymentId: string | null;
  reason: string | null;
  serving: { lane: string | null; image: string | null; error?: string };
}

export interface FleetStatus {
  fleet: FleetRecord | null;
  deployments: FleetStatusRow[];
}
