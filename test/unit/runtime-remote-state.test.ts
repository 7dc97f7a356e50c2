import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareDigests, parseRemoteStatePath, stateVolumeName } from '../../controller/src/runtime/docker/remote-state.js';
import { extractTar } from '../../controller/src/runtime/docker/tar-read.js';
import { packTar } from '../../controller/src/runtime/images/tar-pack.js';

describe('remote state paths', () => {
  it('parses host:HOST:VOLUME/FILE; other strings are local paths', () => {
    expect(parseRemoteStatePath('host:hostb:wvo-state-blue/orchestrator.db')).toEqual({ host: 'hostb', volume: 'wvo-state-blue', file: 'orchestrator.db' });
    expect(parseRemoteStatePath('host:b:v/sub/x.db')).toEqual({ host: 'b', volume: 'v', file: 'sub/x.db' });
    expect(parseRemoteStatePath('state/orchestrator.db')).toBeUndefined();
    expect(stateVolumeName('wvo', 'blue')).toBe('wvo-state-blue');
  });

  it.each(['host:hostb:novolume', 'host:hostb:v/', 'host:Bad Host:v/x.db', 'host:b:v/../x.db', 'host::v/x.db'])('%s is WVO_REMOTE_PATH_INVALID (exit 2)', (arg) => {
    expect(() => parseRemoteStatePath(arg)).toThrow(expect.objectContaining({ code: 'WVO_REMOTE_PATH_INVALID', subject: arg, exitCode: 2 }));
  });
});

describe('compareDigests', () => {
  const file = (path: string, sha = 'a'.repeat(64), size = 10) => ({ path, size, sha256: sha });
  it('lists missing, resized and changed files; extra files on the host are fine', () => {
    expect(compareDigests([file('a.db'), file('b')], [file('a.db'), file('b'), file('extra')])).toEqual([]);
    expect(compareDigests([file('a.db'), file('b'), file('c')], [file('a.db', 'b'.repeat(64)), file('b', undefined, 11)])).toEqual([
      `a.db: sha256 ${'b'.repeat(12)}…, expected ${'a'.repeat(12)}…`,
      'b: 11 bytes, expected 10',
      'c: missing',
    ]);
  });
});

describe('extractTar', () => {
  it('reads back what packTar writes (long names included), writing only the files asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wvo-tar-read-'));
    try {
      const long = `${'d'.repeat(120)}/f.txt`;
      const big = Buffer.alloc(300_000, 7);
      const tar = packTar([
        { type: 'dir', path: 'x' },
        { type: 'file', path: 'x/a.db', content: big },
        { type: 'file', path: long, content: Buffer.from('long') },
        { type: 'file', path: 'skip.me', content: Buffer.from('no') },
      ]);
      const seen: string[] = [];
      const written = await extractTar(tar, (path) => {
        seen.push(path);
        return path === 'skip.me' ? undefined : createWriteStream(join(dir, path.replaceAll('/', '_')));
      });
      expect(seen).toEqual(['x/a.db', long, 'skip.me']);
      expect(written).toEqual(['x/a.db', long]);
      expect(readFileSync(join(dir, 'x_a.db')).equals(big)).toBe(true);
      expect(readFileSync(join(dir, long.replaceAll('/', '_')), 'utf8')).toBe('long');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
