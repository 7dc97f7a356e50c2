import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openDeploy, progressLogger, type DeployContext } from '../../operations/index.js';
import { ANALYSIS_ERRORS, promotionErrors, type DeploymentRecord } from '../../promotion/index.js';
import { openCliContext, type CliContext, type RuntimeFlags } from '../context.js';
import { action, printResult } from '../output.js';
import { openFleetControl, renderFleetRecord } from '../fleet-view.js';

export interface DeployCliFlags extends RuntimeFlags {
  json?: boolean;
}

/** Open config, runtime and the deploy executor for one command; progress lines go to stderr. */
export async function withDeploy<T>(
  flags: DeployCliFlags,
  name: 'promote' | 'rollback' | 'resume' | 'upgrade',
  body: (deploy: DeployContext, cli: CliContext, say: (line: string) => void) => Promise<T>,
): Promise<T> {
  const cli = await openCliContext(flags, `wvo-${name}`);
  const say = (line: string) => {
    if (!flags.json) process.stderr.write(`${line}\n`);
  };
  try {
    const deploy = await openDeploy({
      config: cli.loaded.config,
      projectRoot: cli.projectRoot,
      stateRoot: cli.stateRoot,
      runtime: cli.runtime,
      logger: flags.json ? cli.logger : progressLogger(`[${name}]`, say),
    });
    try {
      return await body(deploy, cli, say);
    } finally {
      await deploy.close();
    }
  } finally {
    await cli.runtime.close();
  }
}

/** The final answer of promote / rollback / resume: JSON, or one line on stdout. */
export function reportDeployment(flags: DeployCliFlags, deploy: DeployContext, record: DeploymentRecord | undefined, verb: string): number {
  const ok = record === undefined || (verb === 'promote' ? record.state === 'promoted' : record.state !== 'rolling_back');
  if (flags.json) {
    const data = record
      ? { ok, deployment: record, transitions: deploy.store.transitions(record.id), switches: deploy.runner.switches }
      : { ok, deployment: null, message: 'no running deployment' };
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  if (!record) {
    process.stdout.write(`[${verb}] no running deployment: nothing to do\n`);
    return 0;
  }
  const { baseline, candidate } = record.plan;
  const serving = record.state === 'promoted' ? candidate.lane : baseline.lane;
  const switches = deploy.runner.switches.map((s) => `${s.from ?? '-'}→${s.to} ${s.took_ms} ms`).join(', ');
  const why = record.state === 'rolled_back' || record.state === 'rolling_back' ? `: ${record.rollback?.reason ?? ''}` : '';
  process.stdout.write(
    `[${verb}] deployment ${record.id} (upgrade ${record.upgradeId}) ${record.state}; ${serving} serves${why}${switches ? ` (switches: ${switches})` : ''}\n`,
  );
  return ok ? 0 : 1;
}

interface PromoteFlags extends DeployCliFlags {
  fleet?: boolean;
  waveSize?: string;
  waves?: string;
  waveObserve?: string;
  bootLimit?: string;
  pause?: string;
  onFailure?: string;
  observe?: string;
  interval?: string;
  flags?: string;
  allowContract?: boolean;
  maxFailedChecks?: string;
  failureMode?: string;
  retention?: string;
  keepWarm?: string;
  resumeObserving?: string;
  requireSoak?: string;
  steps?: string;
  probes?: string;
  analysis?: string;
}

/** `--probes FILE` / `--analysis FILE`: JSON, read here (the options parser validates the content). */
function jsonFile(path: string, flag: '--probes' | '--analysis'): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    const why = `${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`;
    const options = { subject: flag, hint: `${flag} takes a JSON file`, cause: error };
    throw flag === '--probes' ? promotionErrors.create('WVO_PROBE_INVALID', why, options) : ANALYSIS_ERRORS.create('WVO_ANALYSIS_CONFIG_INVALID', why, options);
  }
}

/** Flags → the promotion options input (`parsePromotionOptions` validates it, as for the API). */
export function promotionInputFromFlags(id: string | undefined, flags: PromoteFlags): Record<string, unknown> {
  return {
    ...(id && id !== 'latest' ? { upgradeId: id } : {}),
    ...(flags.observe ? { observeMs: flags.observe } : {}),
    ...(flags.interval ? { intervalMs: flags.interval } : {}),
    ...(flags.flags ? { flags: flags.flags } : {}),
    ...(flags.allowContract ? { allowContract: true } : {}),
    ...(flags.maxFailedChecks ? { maxFailedChecks: Number(flags.maxFailedChecks) } : {}),
    ...(flags.failureMode ? { failureMode: flags.failureMode } : {}),
    ...(flags.retention ? { retentionMs: flags.retention } : {}),
    ...(flags.keepWarm ? { keepWarmMs: flags.keepWarm } : {}),
    ...(flags.resumeObserving ? { resumeObserving: flags.resumeObserving } : {}),
    ...(flags.requireSoak ? { requireSoak: flags.requireSoak } : {}),
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.probes ? { probes: jsonFile(flags.probes, '--probes') } : {}),
    ...(flags.analysis ? { analysis: jsonFile(flags.analysis, '--analysis') } : {}),
  };
}

/** The weighted-canary, probe and analysis flags, shared by `wvo promote` and `wvo upgrade --promote`. */
export function canaryOptions(command: Command, prefix = ''): Command {
  return command
    .option('--steps <list>', `${prefix}canary weights in percent, each observed and analysed before the next: 10,50,100 (default 100: the plain switch)`)
    .option('--probes <file>', `${prefix}semantic probes (JSON list of {name, tool, arguments?, expect?: [{path, equals|exists|matches|type}], schema?}) run against both lanes every interval`)
    .option('--analysis <file>', `${prefix}candidate-vs-baseline analysis config (JSON: thresholds, metrics.*)`);
}

const count = (value: string | undefined) => (value === undefined ? undefined : Number(value));

/** `wvo promote --fleet`: every deployment's promotion gets the same promotion flags. */
async function promoteFleet(id: string | undefined, flags: PromoteFlags): Promise<number> {
  const { upgradeId, ...promotion } = promotionInputFromFlags(id, flags);
  const fleet = openFleetControl(flags, 'promote');
  try {
    const record = await fleet.runner.promote({
      ...(upgradeId ? { upgradeId } : {}),
      ...(flags.waveSize !== undefined ? { waveSize: count(flags.waveSize) } : {}),
      ...(flags.waves !== undefined ? { waves: flags.waves } : {}),
      ...(flags.waveObserve !== undefined ? { waveObserve: flags.waveObserve } : {}),
      ...(flags.bootLimit !== undefined ? { bootLimit: count(flags.bootLimit) } : {}),
      ...(flags.pause !== undefined ? { pause: flags.pause } : {}),
      ...(flags.onFailure !== undefined ? { onFailure: flags.onFailure } : {}),
      promotion,
    });
    printResult(flags, { ok: record.state === 'promoted', fleet: record }, () => renderFleetRecord(record));
    return record.state === 'promoted' ? 0 : 1;
  } finally {
    fleet.close();
  }
}

export function register(program: Command): void {
  program
    .command('promote [id]')
    .description('promote a staged upgrade: canary live → weighted steps (--steps) → switch the proxy → observe (flags one at a time) → promoted, or roll back; every interval compares candidate and baseline')
    .option('--observe <duration>', 'observe window per phase (10m, 30s, 500ms)', '10m')
    .option('--interval <duration>', 'gate check interval (default: min(15s, observe))')
    .option('--flags <list>', 'flags to flip one at a time, each observed: PROMPT_MODE,SANDBOX_MODE=strict,...')
    .option('--allow-contract', 'promote although the schema-compat gate warned')
    .option('--max-failed-checks <n>', 'failed gate checks before an automatic rollback', '3')
    .option('--failure-mode <mode>', 'total | consecutive')
    .option('--retention <duration>', 'how long the old lane is kept stopped for rollback', '24h')
    .option('--keep-warm <duration>', 'keep the old lane running (no traffic) this long after promotion: a rollback meanwhile is a switch, not a restart; the command waits it out (default 30s; 0: stop at once)')
    .option('--resume-observing <policy>', 'after a controller crash while observing: continue | rollback')
    .option('--require-soak <duration>', 'refuse (WVO_SOAK_REQUIRED) unless this upgrade soaked clean for at least this long (`wvo soak start`)');
  canaryOptions(program.commands.at(-1)!)
    .option('--fleet', 'promote every deployment of config fleet.deployments, in waves (each as above, with these options)')
    .option('--wave-size <n>', 'with --fleet: deployments per wave (default fleet.waves.size)')
    .option('--waves <list>', 'with --fleet: progressive wave sizes, counts, % of the fleet, `rest` last: 1,25%,rest (not with --wave-size; default fleet.waves.sizes)')
    .option('--wave-observe <list>', 'with --fleet: observe window per wave, the last repeating: 10m,2m (overrides --observe; default fleet.waves.observe)')
    .option('--boot-limit <n>', 'with --fleet: promotions starting at once inside a wave (default: the wave size)')
    .option('--pause <duration>', 'with --fleet: pause between waves (default fleet.waves.pause)')
    .option('--on-failure <policy>', 'with --fleet: keep | rollback the deployments already promoted when one fails')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .option('--json', 'print the deployment, its transitions and switch times as JSON')
    .addHelpText(
      'after',
      '\n<id> is the staged upgrade (default: the newest). Exit 0 promoted, 1 rolled back or failed, 2 usage.\n' +
        'Needs the proxy admin API (config proxy.admin, token: proxy.tokenFile or WVO_PROXY_TOKEN);\n' +
        '--flags needs WVO_ADMIN_TOKEN (the lanes\' flag endpoint). A killed promote is finished by `wvo resume`.',
    )
    .action(
      action(async (id: string | undefined, flags: PromoteFlags) =>
        flags.fleet ? promoteFleet(id, flags) : withDeploy(flags, 'promote', async (deploy) => {
          const record = await deploy.operations.promote(promotionInputFromFlags(id, flags));
          return reportDeployment(flags, deploy, record, 'promote');
        }),
      ),
    );
}
