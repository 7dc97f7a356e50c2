import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { connectHosts, LOCAL_HOST, pingHost } from '../../runtime/index.js';
import { RuntimeError } from '../../runtime/index.js';
import { ensureBaseImage } from '../../runtime/index.js';
import { IMAGE_KINDS, type ImageKind } from '../../runtime/index.js';
import { buildImages } from '../../runtime/index.js';
import { INSTALL_ROOT } from '../../runtime/index.js';
import { parsePruneOptions } from '../../harness/index.js';
import { formatBytes, pruneStaged, type PruneReport } from '../../harness/index.js';
import { openCliContext, type RuntimeFlags } from '../context.js';
import { action, printResult, type OutputOptions } from '../output.js';

interface BuildCliOptions extends OutputOptions {
  config?: string;
  tag?: string;
  only?: string;
  root?: string;
  nodeImage?: string;
  pull?: boolean;
}

export function register(program: Command): void {
  const images = program.command('images').description('Worker and controller images');
  images
    .command('build')
    .description('Build wvo-worker and wvo-controller through the engine API (offline base when NODE_IMAGE is unavailable)')
    .option('--config <file>', 'config file (default ./wvo.config.json)')
    .option('--tag <tag>', 'image tag (default images.tag, else the package version)')
    .option('--only <kind>', `one image: ${IMAGE_KINDS.join(' | ')}`)
    .option('--root <dir>', 'built tree to package (default: this installation)')
    .option('--node-image <ref>', 'NODE_IMAGE build arg (default images.nodeImage)')
    .option('--no-pull', 'never try to pull NODE_IMAGE')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: BuildCliOptions) => {
        const loaded = loadConfig(options.config ? { file: options.config } : {});
        const { config } = loaded;
        if (options.only && !IMAGE_KINDS.includes(options.only as ImageKind)) {
          throw new RuntimeError('WVO_IMAGE_BUILD_FAILED', `unknown image kind "${options.only}"`, { subject: '--only', hint: `One of ${IMAGE_KINDS.join(', ')}.`, exitCode: 2 });
        }
        const host = connectHosts(config.hosts, { baseDir: loaded.baseDir }).get(LOCAL_HOST)!;
        await pingHost(host);
        const result = await buildImages(host.docker, {
          root: options.root ? resolve(options.root) : INSTALL_ROOT,
          ...(options.only ? { kinds: [options.only as ImageKind] } : {}),
          repositories: { worker: config.images.worker, controller: config.images.controller },
          ...(options.tag ?? config.images.tag ? { tag: (options.tag ?? config.images.tag)! } : {}),
          nodeImage: options.nodeImage ?? config.images.nodeImage,
          pull: options.pull !== false && config.images.pull,
          baseImage: config.images.baseImage,
          onProgress: (event) => {
            if (!options.json) process.stderr.write(`[images] ${event.message ?? event.phase}\n`);
          },
        });
        printResult(options, { ok: true, ...result }, () =>
          [`NODE_IMAGE ${result.nodeImage.image} (${result.nodeImage.source})`, ...result.images.map((i) => `built ${i.tag} ${i.id.slice(7, 19)} in ${(i.durationMs / 1000).toFixed(1)} s (context ${(i.contextBytes / 1e6).toFixed(1)} MB, ${i.cachedSteps}/${i.steps} steps cached)`)].join('\n'),
        );
      }),
    );
  images
    .command('base')
    .description('Build the offline Node base image from the host node (ENGINE.md); no registry needed')
    .option('--config <file>', 'config file (default ./wvo.config.json)')
    .option('--force', 'rebuild even if it exists')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: OutputOptions & { config?: string; force?: boolean }) => {
        const loaded = loadConfig(options.config ? { file: options.config } : {});
        const host = connectHosts(loaded.config.hosts, { baseDir: loaded.baseDir }).get(LOCAL_HOST)!;
        await pingHost(host);
        const base = await ensureBaseImage(host.docker, loaded.config.images.baseImage, { force: Boolean(options.force) });
        printResult(options, { ok: true, ...base }, () => `${base.built ? 'built' : 'exists'} ${base.tag} ${base.id.slice(7, 19)}`);
      }),
    );
  images
    .command('prune')
    .description('Remove staged worker images (docker) or trees under tmp/wv-images (local) that no lane or live deployment uses, dead caches and stale upgrade stages under tmp/')
    .option('--keep <n>', 'keep the N newest staged images/trees besides those in use (default images.keepStaged, 5)')
    .option('--dry-run', 'say what would be removed; remove nothing')
    .option('--host <name>', 'Docker host to prune (default: local, where staged images are built)')
    .option('--label <key=value>', 'docker: only staged images that also carry this label (repeatable; caches are then left alone)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'config file (default ./wvo.config.json)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nKept: images/trees of any lane (running or stopped), of a running deployment or a promoted one still\n' +
        'inside retention, named in local.trees, and the N newest; the stage of a running upgrade. Never\n' +
        'touched: images without the wvo.staged label, anything outside tmp/wv-images, tmp/wv-deps,\n' +
        'tmp/wv-build and tmp/wv-upgrade-*.',
    )
    .action(
      action(async (flags: PruneCliFlags) => {
        // Checked before anything is opened: a bad flag removes nothing.
        const keep = flags.keep === undefined ? undefined : /^-?\d+$/.test(flags.keep.trim()) ? Number(flags.keep) : flags.keep;
        const names = { keep: '--keep', host: '--host', dryRun: '--dry-run', labels: '--label' } as const;
        const labels = flags.label ?? [];
        parsePruneOptions({ keep: keep ?? 0, labels }, 'wvo images prune', names);
        const context = await openCliContext(flags, 'wvo-images');
        try {
          const options = parsePruneOptions(
            { keep: keep ?? context.loaded.config.images.keepStaged, dryRun: Boolean(flags.dryRun), labels, ...(flags.host ? { host: flags.host } : {}) },
            'wvo images prune',
            names,
          );
          const report = await pruneStaged(options, {
            projectRoot: context.projectRoot,
            stateRoot: context.stateRoot,
            runtime: context.runtime,
            images: context.images,
            config: context.loaded.config,
            ...(flags.json ? {} : { onProgress: (line: string) => process.stderr.write(`[prune] ${line}\n`) }),
          });
          printResult(flags, { ok: true, ...report }, () => renderReport(report));
        } finally {
          await context.runtime.close();
        }
      }),
    );
}

interface PruneCliFlags extends OutputOptions, RuntimeFlags {
  keep?: string;
  dryRun?: boolean;
  host?: string;
  label?: string[];
}

/** A table: one row per staged image/tree/cache, removed first, then kept with why. */
export function renderReport(report: PruneReport): string {
  const order = { removed: 0, 'would-remove': 0, skipped: 1, kept: 2 } as const;
  const rows = [...report.entries]
    .sort((a, b) => order[a.action] - order[b.action])
    .map((e) => [e.action, e.kind, e.ref, formatBytes(e.bytes), e.action === 'removed' || e.action === 'would-remove' ? '' : e.why]);
  const header = ['ACTION', 'KIND', 'REF', 'SIZE', 'WHY'];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const verb = report.dryRun ? 'would free' : 'freed';
  const summary = `${report.runtime} host ${report.host}, keep ${report.keep}: ${report.removed} ${report.dryRun ? 'to remove' : 'removed'}, ${report.kept} kept, ${report.skipped} skipped; ${verb} ${formatBytes(report.bytesFreed)}`;
  return [...(rows.length ? [line(header), ...rows.map(line)] : ['nothing staged']), summary].join('\n');
}
