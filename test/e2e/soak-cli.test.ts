import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runWvoCli, WVO_MAIN } from '../helpers/cli.js';
import { liveHead, liveTraffic, replayedUpTo, SOAK_TOKEN, soakRig, type SoakRig } from '../helpers/soak-rig.js';

/** `wvo soak` as users run it: the built CLI in the project directory, the soak in the foreground. */
describe('wvo soak start|status|stop', () => {
  const rigs: SoakRig[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const rig of rigs.splice(0)) await rig.cleanup();
  });

  const env = { WVO_ADMIN_TOKEN: SOAK_TOKEN, WVO_LOG_PRETTY: '0', WVO_LOG_LEVEL: 'warn' };

  function startCli(cwd: string, args: string[]): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
    const child = spawn(process.execPath, [WVO_MAIN, 'soak', 'start', '--runtime', 'local', ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.resume();
    return { child, exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))), stderr: () => stderr };
  }

  async function running(r: SoakRig): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const soak = r.store.running();
      if (soak) return soak.id;
      if (Date.now() > deadline) throw new Error('no soak started within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('bad flags exit 2; a killed `wvo soak start` leaves its soak running and the next one resumes it from the last seq; stop ends it', async () => {
    const r = await soakRig();
    rigs.push(r);
    const bad = await runWvoCli(['soak', 'start', '--runtime', 'local', '--for', 'soon', '--json'], { cwd: r.root, env });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'WVO_SOAK_OPTION_INVALID', subject: 'for' });

    const first = startCli(r.root, ['--checkpoint-calls', '6']);
    const id = await running(r);
    const writes = await liveTraffic(r.liveUrl, 2, 2);
    await replayedUpTo(r.store, id, writes);
    const status = await runWvoCli(['soak', 'status', '--runtime', 'local', '--json'], { cwd: r.root, env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, driver_alive: true, soak: { id, state: 'running', replayed: writes, answer_diffs: 0 } });
    const overview = await runWvoCli(['status', '--runtime', 'local'], { cwd: r.root, env });
    expect(overview.stdout).toMatch(new RegExp(`^soak +soak ${id} running .*replayed ${writes} calls`, 'm'));

    // The driver dies without a word; its lanes keep running.
    first.child.kill('SIGKILL');
    await first.exit;
    const more = await liveTraffic(r.liveUrl, 1, 2);
    const second = startCli(r.root, []);
    const head = await liveHead(r.liveUrl);
    expect(head).toBe(writes + more);
    await replayedUpTo(r.store, id, head);
    expect(second.stderr()).toContain(`resuming soak ${id} at seq ${writes}`);
    expect(r.store.find(id)!.lane_restarts).toBe(0);

    const stop = await runWvoCli(['soak', 'stop', '--runtime', 'local', '--json'], { cwd: r.root, env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout).soak).toMatchObject({ id, state: 'stopped', replayed: head, answer_diffs: 0, state_diffs: 0 });
    expect(await second.exit).toBe(0);
  });
});
