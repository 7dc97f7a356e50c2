import { relative } from 'node:path';
import type { Command } from 'commander';
import { ControlPlane, progressLogger, resolveUpgradeApp, upgrade } from '../../operations/index.js';
import { parseUpgradeOptions } from '../../harness/index.js';
import { listrReporter, plainReporter } from '../../harness/index.js';
import { formatBytes } from '../../harness/index.js';
import type { UpgradeResult } from '../../harness/index.js';
import { parsePromotionOptions } from '../../promotion/index.js';
import { openCliContext, type RuntimeFlags } from '../context.js';
import { action } from '../output.js';
import { canaryOptions, promotionInputFromFlags, reportDeployment } from './promote.js';

interface UpgradeFlags extends RuntimeFlags {
  workspace?: string;
  allowDirty?: boolean;
  skipTests?: boolean;
  suite?: string;
  baseline?: string;
  promote?: boolean;
  allowContract?: boolean;
  json?: boolean;
  ci?: boolean;
  keepStage?: boolean;
  strictDryRun?: boolean;
  testCommand?: string;
  observe?: string;
  interval?: string;
  retention?: string;
  keepWarm?: string;
  steps?: string;
  probes?: string;
  analysis?: string;
  app?: string;
  candidate?: string;
  allowBreaking?: boolean;
}

export function register(program: Command): void {
  program
    .command('upgrade')
    .description('stage, build and test the workspace, then shadow it against the live version (sandboxed lanes, answers and state) and diff')
    .option('--workspace <dir>', 'the tree to upgrade to (default: current directory)')
    .option('--allow-dirty', 'stage uncommitted changes instead of refusing a dirty tree')
    .option('--skip-tests', "skip the staged copy's tests (promotion then refuses this run)")
    .option('--suite <file>', 'shadow suite (JSON or YAML); default: the built-in suite over the seed tools')
    .option('--baseline <image|ref>', "what to compare against: an image, a built tree, or a git ref (default: the live lane's image, else HEAD)")
    .option('--app <name>', 'the app to upgrade (wvo.config.json apps; default: worker, ours)')
    .option('--candidate <image>', 'image to image: the candidate image (a command image on the local runtime); skips stage, build and test')
    .option('--allow-breaking', 'promote although the tool-surface gate found a breaking change')
    .option('--promote', 'promote when the run passes (needs tests run and a rollback-safe schema)')
    .option('--allow-contract', 'allow promotion although the schema-compat gate warned')
    .option('--observe <duration>', 'with --promote: observe window (default 10m)')
    .option('--interval <duration>', 'with --promote: gate check interval')
    .option('--retention <duration>', 'with --promote: how long the old lane is kept stopped for rollback (default 24h)')
    .option('--keep-warm <duration>', 'with --promote: keep the old lane running this long after promotion (instant rollback; default 30s, 0: stop at once)');
  canaryOptions(program.commands.at(-1)!, 'with --promote: ')
    .option('--ci', 'nightly mode: shadow differences only warn (exit 0); failures exit 1')
    .option('--keep-stage', 'keep tmp/wv-upgrade-<id>/ for inspection')
    .option('--strict-dry-run', 'shadow lanes in strict DRY_RUN (every call rolled back, copies verified unchanged) instead of sandboxes that commit to their copies; no state diff')
    .option('--test-command <cmd>', "the staged copy's test command (default: npm run test:unit)")
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .option('--json', 'print the result as JSON (no progress)')
    .addHelpText(
      'after',
      '\nExit codes: 0 all checks passed, 2 completed with warnings (0 with --ci), 1 failure.\n' +
        'Artifacts: experiments/mcp/upgrade/<id>/{steps.json, shadow.json, report.html}; summary in state/analytics/upgrade_shadow.json.',
    )
    .action(
      action(async (flags: UpgradeFlags) => {
        const options = parseUpgradeOptions(
          {
            ...(flags.workspace ? { workspace: flags.workspace } : {}),
            allowDirty: Boolean(flags.allowDirty),
            skipTests: Boolean(flags.skipTests),
            ...(flags.suite ? { suite: flags.suite } : {}),
            ...(flags.baseline ? { baseline: flags.baseline } : {}),
            promote: Boolean(flags.promote),
            allowContract: Boolean(flags.allowContract),
            ci: Boolean(flags.ci),
            keepStage: Boolean(flags.keepStage),
            strictDryRun: Boolean(flags.strictDryRun),
            ...(flags.testCommand ? { testCommand: flags.testCommand.split(' ').filter(Boolean) } : {}),
            ...(flags.app ? { app: flags.app } : {}),
            ...(flags.candidate ? { candidate: flags.candidate } : {}),
            allowBreaking: Boolean(flags.allowBreaking),
          },
          'wvo upgrade',
        );
        // Promotion options are checked before the (long) harness run, with the promote command's parser.
        const promotion = options.promote
          ? promotionInputFromFlags(undefined, { ...flags, flags: undefined, allowContract: options.allowContract })
          : undefined;
        if (promotion) parsePromotionOptions(promotion);
        const context = await openCliContext(flags, 'wvo-upgrade');
        // First Ctrl-C: stop at the next step and clean up (lanes, stage, lock); second: exit now.
        const interrupt = new AbortController();
        process.once('SIGINT', () => {
          process.stderr.write('\n[upgrade] interrupted: cleaning up (Ctrl-C again to exit at once)\n');
          interrupt.abort();
          process.once('SIGINT', () => process.exit(130));
        });
        const write = (line: string) => process.stderr.write(`${line}\n`);
        const reporter = flags.json ? undefined : process.stderr.isTTY ? listrReporter() : plainReporter(write);
        if (!flags.json) write(`[upgrade] ${context.reason}`);
        try {
          const app = resolveUpgradeApp(context.loaded.config, context.loaded.baseDir, options.app);
          const say = (line: string) => !flags.json && write(line);
          // One proxy admin client and one controller.db for the whole command; with --promote the
          // proxy token is required before the (long) harness run.
          const plane = await ControlPlane.open({
            config: context.loaded.config,
            projectRoot: context.projectRoot,
            stateRoot: context.stateRoot,
            runtime: context.runtime,
            images: context.images,
            proxy: promotion ? 'required' : 'optional',
            logger: flags.json ? context.logger : progressLogger('[promote]', say),
          });
          try {
            const { result, deployment } = await upgrade(plane, {
              options,
              app,
              ...(promotion ? { promotion } : {}),
              logger: context.logger,
              signal: interrupt.signal,
              pruneStaged: plane.stagedPruner(options.workspace),
              ...(reporter ? { onEvent: (event) => reporter.onEvent(event) } : {}),
              onRun: () => reporter?.finish(),
              onPromote: (run) => say(`[upgrade] promoting ${run.id}`),
            });
            if (deployment) return reportDeployment(flags, plane, deployment, 'promote');
            return reportRun(flags, context.chosen, result, interrupt.signal.aborted);
          } finally {
            await plane.close();
          }
        } finally {
          await context.runtime.close();
        }
      }),
    );
}

/** `wvo upgrade`'s answer for a run it did not promote: JSON, or the artifacts and the final line. */
function reportRun(flags: UpgradeFlags, runtime: string, result: UpgradeResult, interrupted: boolean): number {
  const write = (line: string) => process.stderr.write(`${line}\n`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: result.outcome !== 'failed', runtime, ...result }, null, 2)}\n`);
  } else {
    if (result.error) write(`${result.error.code}: ${result.error.message}${result.error.hint ? `\n  hint: ${result.error.hint}` : ''}`);
    write(`[upgrade] artifacts: ${relative(process.cwd(), result.artifactsDir) || '.'}`);
    if (result.shadow) write(`[upgrade] report: ${relative(process.cwd(), result.shadow.reportHtml)}`);
    if (result.prune?.warning) write(`[upgrade] warning: staged images not pruned: ${result.prune.warning}`);
    else if (result.prune) write(`[upgrade] pruned ${result.prune.removed.length} staged images/trees/caches (${formatBytes(result.prune.bytesFreed)} freed, ${result.prune.kept} kept${result.prune.skipped ? `, ${result.prune.skipped} skipped` : ''})`);
    if (result.finalLine) process.stdout.write(`${result.finalLine}\n`);
  }
  return interrupted && result.outcome === 'failed' ? 130 : result.exitCode;
}
