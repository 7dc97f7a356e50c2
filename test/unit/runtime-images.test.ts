import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parentDirs, parseLdd } from '../../controller/src/runtime/images/base-image.js';
import { dependencyClosure, importedPackages, keepPackageFile, packageNameOf, productionPackages, type Lockfile } from '../../controller/src/runtime/images/build-context.js';
import { packTar } from '../../controller/src/runtime/images/tar-pack.js';

describe('packTar', () => {
  it('writes a tar that GNU tar reads back: dirs, files (small, streamed), symlinks, long names, modes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wvo-tar-'));
    const big = Buffer.alloc(300 * 1024, 7);
    writeFileSync(join(dir, 'big.bin'), big);
    const longName = `node_modules/${'deep/'.repeat(30)}file.js`;
    const tar = await buffer(
      packTar([
        { type: 'dir', path: 'app', mode: 0o755 },
        { type: 'file', path: 'app/hello.txt', content: Buffer.from('hello\n'), mode: 0o600, uid: 1000, gid: 1000 },
        { type: 'file', path: 'app/big.bin', size: big.length, source: join(dir, 'big.bin') },
        { type: 'symlink', path: 'app/link', target: 'hello.txt' },
        { type: 'file', path: longName, content: Buffer.from('x') },
      ]),
    );
    expect(tar.length % 512).toBe(0);
    writeFileSync(join(dir, 'out.tar'), tar);
    const listing = (await execa('tar', ['-tvf', join(dir, 'out.tar'), '--numeric-owner'])).stdout;
    expect(listing).toContain('app/hello.txt');
    expect(listing).toMatch(/-rw------- 1000\/1000\s+6 .* app\/hello\.txt/);
    expect(listing).toContain('app/link -> hello.txt');
    expect(listing).toContain(longName);
    const out = join(dir, 'x');
    mkdirSync(out);
    await execa('tar', ['-xf', join(dir, 'out.tar'), '-C', out]);
    expect((await execa('cmp', [join(dir, 'big.bin'), join(out, 'app/big.bin')], { reject: false })).exitCode).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic: same entries, same bytes', async () => {
    const entries = () => [{ type: 'file' as const, path: 'a', content: Buffer.from('1') }];
    expect((await buffer(packTar(entries()))).equals(await buffer(packTar(entries())))).toBe(true);
  });
});

describe('dependency selection', () => {
  const lock: Lockfile = {
    packages: {
      '': {},
      'node_modules/a': { dependencies: { b: '^1' } },
      'node_modules/b': { dependencies: { c: '^1' } },
      'node_modules/b/node_modules/c': {},
      'node_modules/c': { dev: true },
      'node_modules/@s/p': { optionalDependencies: { missing: '1' } },
      'node_modules/dev-only': { dev: true },
    },
  };

  it('finds bare imports, not builtins or relative paths', () => {
    const source = `import x from 'a'; import { y } from "@s/p/sub"; import fs from 'node:fs'; import p from 'path'; const z = await import('b'); import './local.js'; require('c');`;
    expect([...importedPackages(source)].sort()).toEqual(['@s/p', 'a', 'b', 'c']);
    expect(packageNameOf('#internal')).toBeUndefined();
  });

  it('closes over dependencies with node resolution (nested first) and skips missing optionals', () => {
    expect([...dependencyClosure(lock, ['a', '@s/p'])].sort()).toEqual(['node_modules/@s/p', 'node_modules/a', 'node_modules/b', 'node_modules/b/node_modules/c']);
  });

  it('production set excludes dev packages', () => {
    expect([...productionPackages(lock)]).not.toContain('node_modules/dev-only');
  });

  it('prunes docs, maps, typings, and native build leftovers', () => {
    expect(keepPackageFile('README.md', false)).toBe(false);
    expect(keepPackageFile('lib/index.d.ts', false)).toBe(false);
    expect(keepPackageFile('lib/index.js', false)).toBe(true);
    expect(keepPackageFile('package.json', false)).toBe(true);
    expect(keepPackageFile('build/Release/better_sqlite3.node', true)).toBe(true);
    expect(keepPackageFile('build/Release/obj.target/x.o', true)).toBe(false);
    expect(keepPackageFile('deps/sqlite3/sqlite3.c', true)).toBe(false);
  });
});

describe('offline base rootfs', () => {
  it('reads library paths from ldd output', () => {
    const ldd = `\tlinux-vdso.so.1 (0x00007ffc)\n\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n`;
    expect(parseLdd(ldd)).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib64/ld-linux-x86-64.so.2']);
    expect(parentDirs(['/usr/bin/node', '/lib64/ld.so'])).toEqual(['lib64', 'usr', 'usr/bin']);
  });
});
