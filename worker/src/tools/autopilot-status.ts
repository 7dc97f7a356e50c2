import { z } from 'zod';
import { readAutopilotMode } from '../store/settings.js';
import { defineTool, type ToolContext } from './tool.js';

export const AutopilotStatusInput = z.object({}).strict();

/** The most recent dispatch → verify → report round, by its report. */
function lastCycle(context: ToolContext) {
  const report = context.db
    .prepare('SELECT id, task_id, agent, outcome, created_at FROM reports ORDER BY id DESC LIMIT 1')
    .get() as { id: number; task_id: string; agent: string; outcome: string; created_at: string } | undefined;
  if (!report) return null;
  const dispatch = context.db
    .prepare('SELECT id, status, started_at FROM dispatches WHERE task_id = ? ORDER BY id DESC LIMIT 1')
    .get(report.task_id) as { id: number; status: string; started_at: string } | undefined;
  const verification = context.db
    .prepare('SELECT id, passed, created_at FROM verifications WHERE task_id = ? ORDER BY id DESC LIMIT 1')
    .get(report.task_id) as { id: number; passed: number; created_at: string } | undefined;
  return {
    task_id: report.task_id,
    agent: report.agent,
    outcome: report.outcome,
    reported_at: report.created_at,
    dispatch: dispatch ? { id: dispatch.id, status: dispatch.status, started_at: dispatch.started_at } : null,
    verification: verification
      ? { id: verification.id, passed: verification.passed === 1, verified_at: verification.created_at }
      : null,
  };
}

export const autopilotStatusTool = defineTool({
  name: 'autopilot_status',
  title: 'Autopilot status',
  description: 'Autopilot mode, effective feature flags (value and source), the last cycle, and cycle counts.',
  input: AutopilotStatusInput,
  run(context) {
    const count = (table: 'dispatches' | 'verifications' | 'reports') =>
      (context.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      mode: readAutopilotMode(context.db),
      flags: context.flags(),
      last_cycle: lastCycle(context),
      cycles: { dispatches: count('dispatches'), verifications: count('verifications'), reports: count('reports') },
    };
  },
});
