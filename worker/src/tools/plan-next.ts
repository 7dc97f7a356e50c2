import { z } from 'zod';
import { dependencyIds, readyCount, readyTasks } from '../store/tasks.js';
import { defineTool } from './tool.js';

export const PlanNextInput = z
  .object({
    limit: z.number().int().min(1).max(100).default(10),
  })
  .strict();

export const planNextTool = defineTool({
  name: 'plan_next',
  title: 'Plan next tasks',
  description: 'Ready tasks (open, every dependency done), highest priority first.',
  input: PlanNextInput,
  run(context, input) {
    const tasks = readyTasks(context.db, input.limit).map((task) => ({
      id: task.id,
      title: task.title,
      priority: task.priority,
      area: task.area,
      dependencies: dependencyIds(task),
      estimated_tokens: task.estimated_tokens,
      attempts: task.attempts,
    }));
    return { tasks, ready_total: readyCount(context.db), limit: input.limit };
  },
});
