import type Docker from 'dockerode';
import { RuntimeError } from '../errors.js';
import { dependencyClosure, depsEntries, readLockfile, type ContextPlan } from './build-context.js';
import { packTar, type TarEntry } from './tar-pack.js';

export interface NpmAppImageOptions {
  /** Tree holding package-lock.json and the installed node_modules/. */
  root: string;
  /** The installed package (an npm alias such as `everything-a` is its own name here). */
  pkg: string;
  /** Its entry script and arguments, relative to the package (`dist/index.js streamableHttp`). */
  args: readonly string[];
  port: number;
  /** Environment variable the server reads its port from. */
  portEnv: string;
  tag: string;
  /** The offline base (ensureBaseImage) or an official node image. */
  nodeImage: string;
}

/** Pure: the Dockerfile of a packaged npm MCP server (no RUN: the offline base has no shell). */
export function npmAppDockerfile(options: Pick<NpmAppImageOptions, 'pkg' | 'args' | 'port' | 'portEnv'>): string {
  const [script, ...rest] = options.args;
  return [
    'ARG NODE_IMAGE',
    'FROM ${NODE_IMAGE}',
    'WORKDIR /app',
    'USER 1000:1000',
    `ENV NODE_ENV=production ${options.portEnv}=${options.port}`,
    `EXPOSE ${options.port}`,
    'ADD node_modules.tar /app/',
    `ENTRYPOINT ${JSON.stringify(['node', `/app/node_modules/${options.pkg}/${script}`])}`,
    `CMD ${JSON.stringify(rest)}`,
    `LABEL wvo.image-kind="app" wvo.app-package="${options.pkg}"`,
    '',
  ].join('\n');
}

/**
 * Package an npm MCP server installed on the host as an image on our offline base: the package
 * and its dependency closure (from package-lock.json) as node_modules.tar, and a generated
 * Dockerfile. Nothing is fetched inside the build (no registry is reachable from the engine).
 */
export async function buildNpmAppImage(docker: Docker, options: NpmAppImageOptions): Promise<{ tag: string; id: string; packages: number }> {
  const lock = readLockfile(options.root);
  const packages = [...dependencyClosure(lock, [options.pkg])].sort();
  if (packages.length === 0) {
    throw new RuntimeError('WVO_IMAGE_BUILD_FAILED', `${options.pkg} is not in ${options.root}/package-lock.json`, { subject: options.pkg, hint: 'npm ci first' });
  }
  const plan = { kind: 'worker', root: options.root, dockerfile: '', packages } as ContextPlan;
  const depsTar: Buffer[] = [];
  for await (const chunk of packTar(depsEntries(plan))) depsTar.push(chunk as Buffer);
  async function* entries(): AsyncGenerator<TarEntry> {
    yield { type: 'file', path: 'Dockerfile', content: Buffer.from(npmAppDockerfile(options)) };
    yield { type: 'file', path: 'node_modules.tar', mode: 0o644, content: Buffer.concat(depsTar) };
  }
  let failure: string | undefined;
  try {
    const stream = await docker.buildImage(packTar(entries()), { t: options.tag, buildargs: { NODE_IMAGE: options.nodeImage }, rm: true, forcerm: true } as Docker.ImageBuildOptions);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), (event: { error?: string }) => {
        if (event.error) failure = event.error;
      }),
    );
  } catch (error) {
    failure ??= (error as Error).message;
  }
  if (failure) throw new RuntimeError('WVO_IMAGE_BUILD_FAILED', `building ${options.tag} failed: ${failure}`, { subject: options.tag });
  const info = await docker.getImage(options.tag).inspect();
  return { tag: options.tag, id: info.Id, packages: packages.length };
}
