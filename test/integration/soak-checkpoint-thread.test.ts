import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import { CheckpointDiffThread, checkpointThreadScript, diffCheckpointOffThread, verifyCheckpoint, type CheckpointCopies } from '../../controller/src/soak/index.js';
import { dbPathFor, seedState } from '../../worker/src/index.js';
import { REPO_ROOT } from '../helpers/runtime-fixtures.js';

const BUILT = join(REPO_ROOT, 'dist', 'controller', 'src', 'soak', 'checkpoint-diff-thread.js');

/**
 * A checkpoint's integrity check and diff run in a worker thread (issue 11: a checkpoint never
 * pauses replay). Needs `npm run build`: the thread is always the built file.
 */
describe('soak checkpoint diff in a worker thread', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  function copies(): { copies: CheckpointCopies; database: string } {
    const root = mkdtempSync(join(tmpdir(), 'wvo-soak-thread-'));
    dirs.push(root);
    const seeded = join(root, 'seed');
    seedState({ stateRoot: seeded, tasks: 40, seed: 7 });
    const database = basename(dbPathFor(seeded));
    const replica = join(root, 'replica');
    const candidate = join(root, 'candidate');
    for (const dir of [replica, candidate]) {
      mkdirSync(dir);
      copyFileSync(dbPathFor(seeded), join(dir, database));
    }
    const db = new Database(join(candidate, database));
    db.prepare("UPDATE tasks SET status = 'failed' WHERE id = (SELECT MIN(id) FROM tasks)").run();
    db.close();
    return { copies: { replica, candidate, sqlite: [join(replica, database), join(candidate, database)] }, database };
  }

  it('resolves the built thread from sources, dist modules and the bundle; undefined when not built', () => {
    const soakSrc = join(REPO_ROOT, 'controller', 'src', 'soak', 'checkpoint-diff.ts');
    expect(checkpointThreadScript(pathToFileURL(soakSrc).href, REPO_ROOT)).toBe(BUILT);
    expect(checkpointThreadScript(pathToFileURL(join(REPO_ROOT, 'dist', 'controller', 'src', 'soak', 'checkpoint-diff.js')).href, '/nowhere')).toBe(BUILT);
    expect(checkpointThreadScript(pathToFileURL(join(REPO_ROOT, 'dist', 'controller', 'bundle', 'main.mjs')).href, REPO_ROOT)).toBe(BUILT);
    expect(checkpointThreadScript(pathToFileURL(soakSrc).href, '/nowhere')).toBeUndefined();
  });

  it('gives the same state section as the inline check, and a coded failure keeps its code and subject', async () => {
    const { copies: made, database } = copies();
    const inline = verifyCheckpoint(made, database);
    expect(inline.reported).toBeGreaterThan(0);
    expect(await diffCheckpointOffThread(made, database)).toEqual(inline);
    const missing = { ...made, candidate: join(made.candidate, 'gone'), sqlite: [] };
    const error = await diffCheckpointOffThread(missing, database).catch((caught: unknown) => caught);
    expect(isWvoError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'WVO_STATE_DB_MISSING', subject: join(missing.candidate, database) });
  });

  it('one thread serves a soak\'s checkpoints in turn (answers matched to requests); closed, the next diff starts another', async () => {
    const a = copies();
    const b = copies();
    const same = { ...b.copies, candidate: b.copies.replica, sqlite: [b.copies.sqlite[0]!] };
    const thread = new CheckpointDiffThread();
    try {
      const [first, second] = await Promise.all([thread.diff(a.copies, a.database), thread.diff(same, b.database)]);
      expect(first).toEqual(verifyCheckpoint(a.copies, a.database));
      expect(second.reported).toBe(0);
      await thread.close();
      expect((await thread.diff(a.copies, a.database)).reported).toBe(first.reported);
    } finally {
      await thread.close();
    }
  });

  it('the built module (dist, no tsx) runs the diff in its thread too', async () => {
    const { copies: made, database } = copies();
    const script = `import { diffCheckpointOffThread } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist', 'controller', 'src', 'soak', 'checkpoint-diff.js')).href)};
const section = await diffCheckpointOffThread(${JSON.stringify(made)}, ${JSON.stringify(database)});
process.stdout.write(JSON.stringify(section.reported));`;
    const file = join(dirs[0]!, 'run.mjs');
    writeFileSync(file, script);
    // A plain node: no tsx or vitest loader inherited.
    const { NODE_OPTIONS: _loader, ...env } = process.env;
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', env });
    expect(Number(out)).toBe(verifyCheckpoint(made, database).reported);
  });
});
