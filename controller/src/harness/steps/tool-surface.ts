import { isWvoError } from '../../../../common/src/errors.js';
import { compareSurfaces, shadowErrors, type RawSurface, type SurfaceReport } from '../../shadow/index.js';
import type { UpgradeStep } from './step.js';

export interface ToolSurfaceInput {
  /** What the shadow's baseline and candidate lanes advertised while they ran. */
  baseline: RawSurface;
  candidate: RawSurface;
  allowBreaking: boolean;
  /** Named in errors (an invalid JSON Schema in tools/list). */
  app?: string;
}

/**
 * The tool-surface gate: tools, prompts, resources and templates of baseline and candidate,
 * classified breaking / additive / informational (shadow/tool-surface.ts). A breaking change warns
 * here and blocks --promote unless --allow-breaking (operations/upgrade.ts); every change is in
 * steps.json, shadow.json and report.html.
 */
export const toolSurfaceStep: UpgradeStep<ToolSurfaceInput, SurfaceReport> = {
  name: 'tool-surface',
  async run({ baseline, candidate, allowBreaking, app }, say) {
    let report: SurfaceReport;
    try {
      report = compareSurfaces(baseline, candidate);
    } catch (error) {
      // Same code (WVO_SHADOW_SCHEMA_INVALID, WVO_SHADOW_SURFACE_INVALID), with the app named.
      if (app && isWvoError(error) && (error.code === 'WVO_SHADOW_SCHEMA_INVALID' || error.code === 'WVO_SHADOW_SURFACE_INVALID')) {
        const { subject, hint, details } = error;
        throw shadowErrors.create(error.code, `app ${app}: ${error.message}`, {
          ...(subject === undefined ? {} : { subject }),
          ...(hint === undefined ? {} : { hint }),
          details: { ...details, app },
          cause: error,
        });
      }
      throw error;
    }
    const gate = report.breaking === 0 ? 'passes' : allowBreaking ? 'allowed (--allow-breaking)' : 'blocks --promote (--allow-breaking overrides)';
    say(`${report.breaking} breaking, ${report.additive} additive, ${report.informational} informational: ${gate}`);
    return {
      status: report.breaking > 0 ? 'warning' : 'ok',
      detail: {
        breaking: report.breaking,
        additive: report.additive,
        informational: report.informational,
        gate,
        changes: report.changes.map((c) => ({ category: c.category, kind: c.kind, path: c.path, reason: c.reason })),
      },
      output: report,
    };
  },
};
