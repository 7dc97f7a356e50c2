import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { connectHosts, LOCAL_HOST, pingHost } from '../../runtime/docker/engine.js';
import { RuntimeError } from '../../runtime/errors.js';
import { ensureBaseImage } from '../../runtime/images/base-image.js';
import { IMAGE_KINDS, type ImageKind } from '../../runtime/images/build-context.js';
import { buildImages } from '../../runtime/images/image-build.js';
import { INSTALL_ROOT } from '../../runtime/select.js';
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
}
