import { z } from 'zod';
import type { SurfaceLists } from '../../../common/src/mcp-surface.js';

/**
 * The tool-surface gate's shapes: what a lane advertises (the raw results of tools/list,
 * prompts/list, resources/list and resources/templates/list) and the classified changes between
 * a baseline and a candidate. Declared once; reports are read back through the schema.
 */
export type RawSurface = SurfaceLists;

export const SURFACE_KINDS = ['tool', 'prompt', 'resource', 'resource_template'] as const;
export type SurfaceKind = (typeof SURFACE_KINDS)[number];

/**
 * `breaking`: a client written against the baseline can fail against the candidate. `additive`:
 * new things a client may use; nothing it relied on changed. `informational`: words and hints only.
 */
export const CHANGE_CATEGORIES = ['breaking', 'additive', 'informational'] as const;
export type ChangeCategory = (typeof CHANGE_CATEGORIES)[number];

export const SurfaceChangeSchema = z.object({
  kind: z.enum(SURFACE_KINDS),
  category: z.enum(CHANGE_CATEGORIES),
  /** Where, as a JSON path into the lists keyed by name: `$.tools.search.inputSchema.properties.q.type`. */
  path: z.string(),
  /** The value on the baseline (null when absent). */
  before: z.unknown(),
  /** The value on the candidate (null when absent). */
  after: z.unknown(),
  reason: z.string(),
});
export type SurfaceChange = z.infer<typeof SurfaceChangeSchema>;

export const SurfaceReportSchema = z.object({
  changes: z.array(SurfaceChangeSchema),
  breaking: z.number().int().min(0),
  additive: z.number().int().min(0),
  informational: z.number().int().min(0),
});
export type SurfaceReport = z.infer<typeof SurfaceReportSchema>;

/** Which side of the comparison a surface came from (errors name it). */
export const SURFACE_SIDES = ['baseline', 'candidate'] as const;
export type SurfaceSide = (typeof SURFACE_SIDES)[number];
