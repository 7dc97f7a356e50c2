import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs, readFileSync, readlinkSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RuntimeError } from '../errors.js';
import { INSTALL_ROOT } from '../install-root.js';
import { packTar, type TarEntry } from './tar-pack.js';

/**
 * The build context is generated, not a directory: Dockerfile, package.json, the production
 * dependencies the image needs (from package-lock.json, pruned of build leftovers), and dist/.
 * Nothing else from the tree is sent, so a context is small and its layers are stable:
 * deps first (change rarely), dist last (changes on every code change).
 *
 * The dependencies travel as ONE file, `node_modules.tar` (ADD extracts it): the engine then
 * checks one file's checksum for its layer cache instead of thousands, and the archive is cached
 * on disk by a key of the lockfile entries, so a code-only rebuild does not re-read node_modules.
 */

export const IMAGE_KINDS = ['worker', 'controller'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

interface LockPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
export interface Lockfile {
  packages: Record<string, LockPackage>;
}

/** What each image carries from dist/, and extra dependency roots loaded by name at run time. */
export const IMAGE_CONTENTS: Record<ImageKind, { dist: string[]; main: string; extraRoots: string[]; allProduction: boolean }> = {
  // pino loads transports by name (pino-pretty on a TTY): not visible as an import.
  worker: { dist: ['dist/common', 'dist/worker'], main: 'dist/worker/src/main.js', extraRoots: ['pino-pretty'], allProduction: false },
  controller: { dist: ['dist'], main: 'dist/controller/src/cli/main.js', extraRoots: [], allProduction: true },
};

const BUILTINS = new Set(builtinModules);

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; builtins and relative paths → undefined. */
export function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || specifier.startsWith('#')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return BUILTINS.has(name) || !name ? undefined : name;
}

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"\n]+)['"]/g;

/** Bare package names imported by compiled JS source text (pure). */
export function importedPackages(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(IMPORT_RE)) {
    const name = packageNameOf(match[1]!);
    if (name) names.add(name);
  }
  return names;
}

/** Resolve `dep` as required from the package at `fromKey` (lockfile keys, node's lookup order). */
function resolveKey(lock: Lockfile, fromKey: string, dep: string): string | undefined {
  let base = fromKey;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/** Lockfile keys of `roots` and everything they depend on (pure). Missing optional deps are skipped. */
export function dependencyClosure(lock: Lockfile, roots: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const queue: string[] = [];
  for (const root of roots) {
    const key = resolveKey(lock, '', root);
    if (key) queue.push(key);
  }
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (out.has(key)) continue;
    out.add(key);
    const pkg = lock.packages[key]!;
    const deps = { ...pkg.peerDependencies, ...pkg.optionalDependencies, ...pkg.dependencies };
    for (const dep of Object.keys(deps)) {
      const resolved = resolveKey(lock, key, dep);
      if (resolved && !out.has(resolved)) queue.push(resolved);
    }
  }
  return out;
}

/** Every non-dev package in the lockfile (pure). */
export function productionPackages(lock: Lockfile): Set<string> {
  return new Set(Object.entries(lock.packages).filter(([key, pkg]) => key !== '' && !pkg.dev && !pkg.link).map(([key]) => key));
}

const SKIP_FILE = /\.(md|markdown|map|d\.ts|d\.mts|d\.cts|tsbuildinfo)$|^(\.npmignore|\.eslintrc.*|\.prettierrc.*|tsconfig\.json|\.travis\.yml)$/i;

/**
 * Whether a file inside a package is shipped (pure): no docs/typings/maps; for native addons
 * (binding.gyp) only the built `.node` files, not the C sources or object files.
 */
export function keepPackageFile(relPath: string, native: boolean): boolean {
  const name = posix.basename(relPath);
  if (SKIP_FILE.test(name) && name !== 'package.json') return false;
  if (native) {
    const top = relPath.split('/')[0];
    if (top === 'deps' || top === 'src') return false;
    if (top === 'build') return /^build\/Release\/[^/]+\.node$/.test(relPath);
  }
  return true;
}

async function* walk(dir: string, skip: (relPath: string, isDir: boolean) => boolean, rel = ''): AsyncGenerator<{ rel: string; abs: string; kind: 'file' | 'dir' | 'symlink'; size: number; mode: number }> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    const abs = join(dir, entry.name);
    if (skip(relPath, entry.isDirectory())) continue;
    const stat = await fs.lstat(abs);
    if (entry.isSymbolicLink()) yield { rel: relPath, abs, kind: 'symlink', size: 0, mode: stat.mode };
    else if (entry.isDirectory()) {
      yield { rel: relPath, abs, kind: 'dir', size: 0, mode: stat.mode };
      yield* walk(abs, skip, relPath);
    } else if (entry.isFile()) yield { rel: relPath, abs, kind: 'file', size: stat.size, mode: stat.mode };
  }
}

export interface ContextPlan {
  kind: ImageKind;
  root: string;
  dockerfile: string;
  /** Lockfile keys shipped in node_modules/. */
  packages: string[];
}

export function readLockfile(root: string): Lockfile {
  try {
    return JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  } catch (error) {
    throw new RuntimeError('WVO_IMAGE_BUILD_FAILED', `cannot read ${join(root, 'package-lock.json')}: ${(error as Error).message}`, {
      subject: root,
      hint: 'Images are built from a tree with package-lock.json and installed node_modules (npm ci).',
    });
  }
}

/** This installation's images/. */
export const INSTALLED_IMAGES_DIR = join(INSTALL_ROOT, 'images');

/** The tree's own Dockerfile (a staged candidate may change it), else the installed one. */
export async function dockerfileFor(root: string, kind: ImageKind): Promise<string> {
  const own = join(root, 'images', `${kind}.Dockerfile`);
  try {
    await fs.access(own);
    return own;
  } catch {
    return join(INSTALLED_IMAGES_DIR, `${kind}.Dockerfile`);
  }
}

/** Decide what goes into the context of `kind` (reads dist/ to find the packages it imports). */
export async function planContext(root: string, kind: ImageKind, dockerfile?: string): Promise<ContextPlan> {
  const contents = IMAGE_CONTENTS[kind];
  dockerfile ??= await dockerfileFor(root, kind);
  try {
    await fs.access(join(root, contents.main));
  } catch {
    throw new RuntimeError('WVO_IMAGE_BUILD_FAILED', `${contents.main} is missing in ${root}`, {
      subject: join(root, contents.main),
      hint: 'Build the tree first: npm run build.',
    });
  }
  const lock = readLockfile(root);
  let keys: Set<string>;
  if (contents.allProduction) keys = productionPackages(lock);
  else {
    const roots = new Set(contents.extraRoots);
    for (const dir of contents.dist) {
      for await (const file of walk(join(root, dir), () => false)) {
        if (file.kind === 'file' && file.rel.endsWith('.js')) for (const name of importedPackages(await fs.readFile(file.abs, 'utf8'))) roots.add(name);
      }
    }
    keys = dependencyClosure(lock, roots);
  }
  // Only what is installed (optional deps for other platforms are in the lockfile but not on disk).
  const present: string[] = [];
  for (const key of [...keys].sort()) {
    try {
      await fs.access(join(root, key, 'package.json'));
      present.push(key);
    } catch {
      /* not installed here */
    }
  }
  return { kind, root, dockerfile, packages: present };
}

/** The tar entries of node_modules/ for the plan's packages (pruned; stable order). */
export async function* depsEntries(plan: ContextPlan): AsyncGenerator<TarEntry> {
  yield { type: 'dir', path: 'node_modules', mode: 0o755 };
  const dirsMade = new Set<string>(['node_modules']);
  for (const key of plan.packages) {
    const pkgDir = join(plan.root, key);
    // Parent dirs (scopes, nested node_modules) before the package itself.
    const parts = key.split('/');
    for (let i = 2; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!dirsMade.has(parent)) {
        dirsMade.add(parent);
        yield { type: 'dir', path: parent, mode: 0o755 };
      }
    }
    dirsMade.add(key);
    yield { type: 'dir', path: key, mode: 0o755 };
    let native = false;
    try {
      await fs.access(join(pkgDir, 'binding.gyp'));
      native = true;
    } catch {
      /* pure JS */
    }
    const skip = (rel: string, isDir: boolean) => (isDir && (rel === 'node_modules' || rel.endsWith('/node_modules') || rel === '.bin')) || (!isDir && !keepPackageFile(rel, native)) || (isDir && native && (rel === 'deps' || rel === 'src'));
    for await (const file of walk(pkgDir, skip)) yield toEntry(`${key}/${file.rel}`, file);
  }
}

/** Cache key of the deps archive: the shipped packages' lockfile entries and the install's stamp. */
export function depsKey(plan: ContextPlan, lock: Lockfile = readLockfile(plan.root)): string {
  const hash = createHash('sha256').update(`v1 ${plan.kind}\n`);
  for (const key of plan.packages) hash.update(`${key} ${JSON.stringify(lock.packages[key] ?? {})}\n`);
  // npm rewrites node_modules/.package-lock.json on every install (and rebuilds of native addons).
  try {
    const stamp = statSync(join(plan.root, 'node_modules', '.package-lock.json'));
    hash.update(`stamp ${stamp.size} ${stamp.mtimeMs}\n`);
  } catch {
    hash.update('stamp none\n');
  }
  return hash.digest('hex').slice(0, 20);
}

export const DEPS_CACHE_DIR = join(tmpdir(), 'wvo-image-deps');

/** node_modules as one deterministic tar, cached by depsKey. */
export async function depsArchive(plan: ContextPlan, cacheDir = DEPS_CACHE_DIR): Promise<string> {
  const path = join(cacheDir, `${plan.kind}-${depsKey(plan)}.tar`);
  try {
    await fs.access(path);
    return path;
  } catch {
    /* build it */
  }
  await fs.mkdir(cacheDir, { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  await pipeline(packTar(depsEntries(plan)), createWriteStream(partial));
  await fs.rename(partial, path);
  return path;
}

/** The context's tar entries, in a stable order. */
export async function* contextEntries(plan: ContextPlan, depsCacheDir?: string): AsyncGenerator<TarEntry> {
  yield { type: 'file', path: 'Dockerfile', content: await fs.readFile(plan.dockerfile) };
  yield { type: 'file', path: 'package.json', content: await fs.readFile(join(plan.root, 'package.json')) };
  // An empty state/ copied to /state with the image user's ownership (the base has no shell for RUN mkdir).
  yield { type: 'dir', path: 'state', mode: 0o755 };
  const archive = await depsArchive(plan, depsCacheDir);
  yield { type: 'file', path: 'node_modules.tar', mode: 0o644, size: statSync(archive).size, source: archive };
  if (plan.kind === 'controller') {
    // The controller builds worker images itself (wvo images build, the upgrade harness).
    yield { type: 'dir', path: 'images', mode: 0o755 };
    for (const kind of IMAGE_KINDS) yield { type: 'file', path: `images/${kind}.Dockerfile`, content: await fs.readFile(await dockerfileFor(plan.root, kind)) };
  }
  for (const dir of IMAGE_CONTENTS[plan.kind].dist) {
    const parts = dir.split('/');
    for (let i = 1; i <= parts.length; i++) yield { type: 'dir', path: parts.slice(0, i).join('/'), mode: 0o755 };
    for await (const file of walk(join(plan.root, dir), () => false)) yield toEntry(`${dir}/${file.rel}`, file);
  }
}

function toEntry(path: string, file: { abs: string; kind: 'file' | 'dir' | 'symlink'; size: number; mode: number }): TarEntry {
  const perm = file.mode & 0o755; // no group/world write in images
  if (file.kind === 'dir') return { type: 'dir', path, mode: perm | 0o755 };
  if (file.kind === 'symlink') return { type: 'symlink', path, target: readlinkSync(file.abs) };
  return { type: 'file', path, mode: perm | 0o644, size: file.size, source: file.abs };
}

