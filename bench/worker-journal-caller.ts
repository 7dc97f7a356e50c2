/**
 * bench/worker.ts's in-process caller: one worker's tool path (validation, call scope,
 * transactions, journal) without HTTP, so the journal's cost is measured without transport noise.
 */
import { systemClock } from '../common/src/clock.js';
import { silentLogger } from '../common/src/logger.js';
import { Executor } from '../worker/src/executor/executor.js';
import { CallLedgers, DEFAULT_JOURNAL_RETAIN } from '../worker/src/journal/call-ledgers.js';
import { OperationsManager } from '../worker/src/operations/operations-manager.js';
import { Store } from '../worker/src/store/store.js';
import { callTool } from '../worker/src/tools/registry.js';
import { ToolContext } from '../worker/src/tools/tool.js';

export function inProcessCaller(stateRoot: string, journal: boolean) {
  const store = Store.open({ stateRoot, dryRun: false });
  const executor = new Executor({ dryRun: false, cwd: stateRoot, sandboxDir: stateRoot });
  const context = new ToolContext(store, executor, new OperationsManager(() => store.db, stateRoot), systemClock, silentLogger(), {});
  const ledgers = new CallLedgers({ mode: 'live', clock: systemClock, journal: { enabled: journal, retain: DEFAULT_JOURNAL_RETAIN } });
  return {
    async call(name: string, args: Record<string, unknown>): Promise<{ ok: boolean; taskId?: string }> {
      const { result } = await callTool(context, name, args, { ledgers });
      const body = JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { task?: { id: string } };
      return { ok: !result.isError, ...(body.task ? { taskId: body.task.id } : {}) };
    },
    close: () => store.close(),
  };
}
