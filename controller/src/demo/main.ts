#!/usr/bin/env node
/**
 * `npm run demo`: the embedded default. Seeds a realistic state, starts the worker as a local
 * process, and drives it with the official MCP SDK client, printing each tool's answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { connectMcp } from '../../../common/src/mcp-client.js';
import { formatError } from '../../../common/src/errors.js';

const workerBin = join(import.meta.dirname, '..', '..', '..', 'worker', 'src', 'main.js');

function heading(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

function show(value: unknown): string {
  const text = JSON.stringify(value, null, 2);
  const lines = text.split('\n');
  return lines.length > 40 ? [...lines.slice(0, 40), `  … (${lines.length - 40} more lines)`].join('\n') : text;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'wvo-demo-'));
  const stateRoot = join(root, 'state');
  const worker = { stop: async () => undefined as unknown };
  try {
    heading('Seeding a realistic state (500 tasks, dependency chains, critics, history)');
    await execa('node', [workerBin, 'seed', '--state', stateRoot, '--tasks', '500', '--seed', '42'], { stdio: 'inherit' });

    heading('Starting the worker as a local process');
    const child = execa('node', [workerBin, 'serve'], {
      env: { WVO_STATE_ROOT: stateRoot, WVO_PORT: '0', WVO_LOG_LEVEL: 'warn' },
      stdout: 'pipe',
      stderr: 'inherit',
      reject: false,
    });
    worker.stop = async () => {
      child.kill('SIGTERM');
      return child;
    };
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          try {
            const event = JSON.parse(line) as { event?: string; url?: string };
            if (event.event === 'listening' && event.url) resolve(event.url);
          } catch {
            /* not the listening line */
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`worker exited early with code ${code}`)));
    });
    process.stdout.write(`worker listening at ${url}\n`);

    const session = await connectMcp(url, 'wvo-demo');
    try {
      const calls: Array<[string, Record<string, unknown>]> = [
        ['orchestrator_status', {}],
        ['autopilot_status', {}],
        ['plan_next', { limit: 3 }],
      ];
      for (const [tool, args] of calls) {
        heading(`${tool} ${JSON.stringify(args)}`);
        process.stdout.write(`${show((await session.call(tool, args)).value)}\n`);
      }
      const plan = (await session.call('plan_next', { limit: 1 })).value as { tasks?: Array<{ id: string }> };
      const taskId = plan.tasks?.[0]?.id;
      if (taskId) {
        heading(`dispatch {"task_id":"${taskId}"}`);
        process.stdout.write(`${show((await session.call('dispatch', { task_id: taskId })).value)}\n`);
        heading(`verify {"task_id":"${taskId}"}`);
        process.stdout.write(`${show((await session.call('verify', { task_id: taskId })).value)}\n`);
      }
    } finally {
      await session.close();
    }
    await worker.stop();
    heading('Done: the worker stopped cleanly');
  } finally {
    await worker.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${formatError(error)}\n`);
  process.exitCode = 1;
});
