import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { parseUpgradeOptions } from '../harness/index.js';
import { connectProxyAdmin, openDeploy, upgrade, type ControlPlane } from '../operations/index.js';
import type { DeploymentRecord, UpgradeSummary } from '../promotion/index.js';
import { dockerRuntimeFrom, imageStoreFor, localRuntimeFrom, swarmRuntimeFrom, type LaneRuntime } from '../runtime/index.js';
import type { FleetTarget } from './fleet-targets.js';
import type { ShadowRun } from './member-shadow.js';

/**
 * What the fleet runner needs of one orchestrator: its serving version, its own controller.db
 * (the per-deployment upgrade, its deployments) and its promotion operations. The runner only
 * speaks to this interface; `openMemberPlane` builds it over the operations room's ControlPlane.
 */
export interface MemberPlane {
  /** The lane its proxy routes to and that lane's image. */
  serving(): Promise<{ lane: string | null; image: string | null }>;
  recordUpgrade(summary: UpgradeSummary, at: number): void;
  begin(input: Record<string, unknown>): Promise<{ deployment: DeploymentRecord; done: Promise<DeploymentRecord> }>;
  /** Continue or roll back what a dead controller left (the deployment's own `wvo resume`). */
  resume(id: string): Promise<DeploymentRecord | undefined>;
  rollback(id: string, reason: string): Promise<DeploymentRecord>;
  find(id: string): DeploymentRecord | undefined;
  /** Its deployment of this upgrade, when one was begun (a crash between begin and the fleet's write). */
  findByUpgrade(upgradeId: string): DeploymentRecord | undefined;
  /**
   * Its own shadow run of `candidateImage` (per-deployment shadow): `wvo upgrade --candidate` over
   * this plane (snapshot of its live state where it lives, shadow lanes on its host, baseline what
   * its proxy serves), recorded in its controller.db as `runId`.
   */
  shadow(candidateImage: string, runId: string): Promise<ShadowRun>;
  close(): Promise<void>;
}

export interface MemberPlaneContext {
  config: WvoConfig;
  /** The config's directory: relative token files resolve against it. */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: Logger;
}

/** The member's config: its lanes' project, its proxy, its host or node as the default. */
export function memberConfig(config: WvoConfig, target: FleetTarget): WvoConfig {
  const base = { ...config, projectName: target.app, stateRoot: target.state, proxy: target.proxy };
  if (target.placement.kind === 'host') return { ...base, runtime: 'docker', defaultHost: target.placement.host };
  if (target.placement.kind === 'node') return { ...base, runtime: 'swarm', swarm: { ...config.swarm!, defaultNode: target.placement.node } };
  return { ...base, runtime: 'local' };
}

function memberRuntime(config: WvoConfig, target: FleetTarget, ctx: MemberPlaneContext): LaneRuntime {
  const options = { baseDir: ctx.baseDir, ...(ctx.env ? { env: ctx.env } : {}), ...(ctx.logger ? { logger: ctx.logger } : {}) };
  if (target.placement.kind === 'host') return dockerRuntimeFrom(config, options);
  if (target.placement.kind === 'node') return swarmRuntimeFrom(config, options);
  return localRuntimeFrom(config, options);
}

export async function openMemberPlane(target: FleetTarget, ctx: MemberPlaneContext): Promise<MemberPlane> {
  const config = memberConfig(ctx.config, target);
  const runtime = memberRuntime(config, target, ctx);
  let plane: ControlPlane;
  try {
    const proxy = await connectProxyAdmin(config, ctx.baseDir, ctx.env);
    plane = await openDeploy({
      config,
      projectRoot: ctx.baseDir,
      stateRoot: target.state,
      runtime,
      images: imageStoreFor(runtime, config, { baseDir: ctx.baseDir }),
      proxy,
      ...(ctx.env ? { env: ctx.env } : {}),
      ...(ctx.clock ? { clock: ctx.clock } : {}),
      ...(ctx.logger ? { logger: ctx.logger.child({ deployment: target.name }) } : {}),
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return {
    async serving() {
      const { active } = await plane.proxy.lanes();
      const lane = active ? await runtime.getLane(active).catch(() => undefined) : undefined;
      return { lane: active ?? null, image: lane?.image ?? null };
    },
    recordUpgrade: (summary, at) => plane.store.recordUpgrade(summary, at),
    begin: (input) => plane.operations.begin(input),
    resume: (id) => plane.operations.resume({ id }),
    rollback: (id, reason) => plane.operations.rollback({ id, reason }),
    find: (id) => plane.store.find(id),
    findByUpgrade: (upgradeId) => plane.store.list(50).find((d) => d.upgradeId === upgradeId),
    async shadow(candidateImage, runId) {
      const logger = ctx.logger?.child({ deployment: target.name, shadow: runId });
      const { result } = await upgrade(plane, { options: parseUpgradeOptions({ app: 'worker', candidate: candidateImage }), id: runId, ...(logger ? { logger } : {}) });
      return {
        runId: result.id,
        outcome: result.outcome,
        count: result.shadow?.count ?? null,
        artifactsDir: result.artifactsDir,
        shadowJson: result.shadow?.shadowJson ?? null,
        breaking: result.toolSurface?.breaking ?? 0,
        error: typeof result.error?.message === 'string' ? result.error.message : null,
      };
    },
    async close() {
      await plane.proxy.close().catch(() => undefined);
      await plane.close();
      await runtime.close();
    },
  };
}
