import { z } from 'zod';
import { defineTool } from './tool.js';

export const OrchestratorStatusInput = z.object({}).strict();

export const orchestratorStatusTool = defineTool({
  name: 'orchestrator_status',
  title: 'Orchestrator status',
  description: 'Queue counts, .queue.shadow_diffs from the last upgrade shadow run, token pressure, critics, warnings.',
  input: OrchestratorStatusInput,
  run(context) {
    const snapshot = context.operations.snapshot();
    return { ...snapshot, warnings: [...snapshot.warnings] };
  },
});
