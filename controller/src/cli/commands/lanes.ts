import type { Command } from 'commander';
import { createLogger } from '../../../../common/src/logger.js';
import { loadConfig } from '../../config/index.js';
import { LANE_ROLES, type LaneInfo, type LaneRole } from '../../runtime/index.js';
import { RuntimeError } from '../../runtime/index.js';
import { assertRuntimeKind, createRuntime, type SelectedRuntime } from '../../runtime/index.js';
import { action, printResult, type OutputOptions } from '../output.js';

/** Flags every lane command takes: which config, which runtime. */
export interface RuntimeCliOptions extends OutputOptions {
  config?: string;
  runtime?: string;
}

/** Load config (flag > WVO_CONFIG > ./wvo.config.json), apply --runtime, open the runtime. */
export async function openRuntime(options: RuntimeCliOptions): Promise<SelectedRuntime> {
  const loaded = loadConfig(options.config ? { file: options.config } : {});
  if (options.runtime) {
    assertRuntimeKind(options.runtime);
    loaded.config.runtime = options.runtime;
  }
  const selected = await createRuntime(loaded.config, { baseDir: loaded.baseDir, logger: createLogger('wvo-runtime') });
  return options.runtime && options.runtime !== 'auto' ? { ...selected, reason: `--runtime ${options.runtime}` } : selected;
}

function withRuntimeFlags(command: Command): Command {
  return command
    .option('--config <file>', 'config file (default ./wvo.config.json)')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default from config: auto)')
    .option('--json', 'print the result as JSON');
}

export function laneTable(lanes: LaneInfo[]): string {
  if (lanes.length === 0) return 'no lanes';
  const rows = [['NAME', 'STATUS', 'ROLE', 'DRY', 'HOST', 'URL', 'IMAGE', 'STATE'], ...lanes.map((l) => [l.name, l.status, l.role, l.dryRun ? 'yes' : 'no', l.host, l.url ?? '-', l.image, l.stateDir])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

interface StartCliOptions extends RuntimeCliOptions {
  name: string;
  image: string;
  state: string;
  dryRun?: boolean;
  role?: string;
  deployment?: string;
  host?: string;
  timeout?: string;
  env?: string[];
}

function parseEnv(pairs: string[] = []): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new RuntimeError('WVO_LANE_SPEC_INVALID', `--env expects KEY=VALUE, got "${pair}"`, { subject: '--env', exitCode: 2 });
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

export function register(program: Command): void {
  withRuntimeFlags(program.command('lanes').description('List lanes (rebuilt from container labels / process records)'))
    .option('--host <name>', 'only lanes on this host')
    .action(
      action(async (options: RuntimeCliOptions & { host?: string }) => {
        const selected = await openRuntime(options);
        const lanes = await selected.runtime.listLanes(options.host ? { host: options.host } : {});
        printResult(options, { ok: true, runtime: selected.kind, reason: selected.reason, lanes }, () => `${laneTable(lanes)}\n(${selected.reason})`);
      }),
    );

  const lane = program.command('lane').description('Start, stop and read one lane');

  withRuntimeFlags(lane.command('start').description('Start a lane and wait until /readyz answers'))
    .requiredOption('--name <name>', 'lane name (lowercase, digits, dashes)')
    .requiredOption('--image <ref>', 'worker image (docker) or built tree / mapped tag (local)')
    .requiredOption('--state <dir>', 'state directory mounted at /state')
    .option('--dry-run', 'WVO_DRY_RUN=1: the lane never writes its state')
    .option('--role <role>', `${LANE_ROLES.join(' | ')}`, 'live')
    .option('--deployment <id>', 'deployment id (wvo.deployment label)')
    .option('--host <name>', 'a host from config (default: defaultHost)')
    .option('--timeout <ms>', 'readiness deadline in ms (default lanes.readyTimeoutMs)')
    .option('--env <KEY=VALUE...>', 'extra environment for the worker')
    .action(
      action(async (options: StartCliOptions) => {
        if (options.role && !LANE_ROLES.includes(options.role as LaneRole)) {
          throw new RuntimeError('WVO_LANE_SPEC_INVALID', `unknown role "${options.role}"`, { subject: '--role', hint: `One of ${LANE_ROLES.join(', ')}.`, exitCode: 2 });
        }
        const selected = await openRuntime(options);
        const info = await selected.runtime.startLane(
          {
            name: options.name,
            image: options.image,
            stateDir: options.state,
            ...(options.dryRun ? { dryRun: true } : {}),
            role: (options.role ?? 'live') as LaneRole,
            ...(options.deployment ? { deploymentId: options.deployment } : {}),
            ...(options.host ? { host: options.host } : {}),
            env: parseEnv(options.env),
          },
          {
            ...(options.timeout ? { readyTimeoutMs: Number(options.timeout) } : {}),
            onProgress: (event) => {
              if (!options.json) process.stderr.write(`[lane] ${event.message ?? event.phase}\n`);
            },
          },
        );
        printResult(options, { ok: true, runtime: selected.kind, reason: selected.reason, lane: info }, () => `lane ${info.name} ready at ${info.url} (${selected.kind}, host ${info.host})`);
      }),
    );

  withRuntimeFlags(lane.command('stop').description('SIGTERM, wait, then kill; --remove also forgets the lane').argument('<name>'))
    .option('--remove', 'remove the container / record after stopping')
    .option('--timeout <ms>', 'grace period before the kill (default lanes.stopTimeoutMs)')
    .action(
      action(async (name: string, options: RuntimeCliOptions & { remove?: boolean; timeout?: string }) => {
        const selected = await openRuntime(options);
        const stopOptions = options.timeout ? { timeoutMs: Number(options.timeout) } : {};
        if (options.remove) {
          await selected.runtime.removeLane(name, stopOptions);
          printResult(options, { ok: true, removed: name }, () => `lane ${name} stopped and removed`);
          return;
        }
        const info = await selected.runtime.stopLane(name, stopOptions);
        printResult(options, { ok: true, lane: info }, () => `lane ${name} ${info.status}`);
      }),
    );

  withRuntimeFlags(lane.command('logs').description("A lane's last log lines (stdout and stderr)").argument('<name>'))
    .option('--tail <n>', 'number of lines', '100')
    .action(
      action(async (name: string, options: RuntimeCliOptions & { tail: string }) => {
        const selected = await openRuntime(options);
        const logs = await selected.runtime.logs(name, { tail: Number(options.tail) });
        printResult(options, { ok: true, name, logs }, () => logs.trimEnd());
      }),
    );

  withRuntimeFlags(lane.command('health').description("Probe a lane's /readyz").argument('<name>'))
    .action(
      action(async (name: string, options: RuntimeCliOptions) => {
        const selected = await openRuntime(options);
        const health = await selected.runtime.health(name);
        printResult(options, { ok: health.ready, health }, () => `lane ${name}: ${health.status}${health.detail ? ` (${health.detail})` : ''}`);
        return health.ready ? 0 : 1;
      }),
    );
}
