import { z } from 'zod';
import type { Suite, SuiteCall } from './suite.js';
import type { RawSurface } from './tool-surface-types.js';

/**
 * Which suite calls may run against an app's shadow lanes. An app that is told it is a shadow
 * (our worker's sandbox, or an app's shadow env var) runs every call. An app with no shadow mode
 * would act for real (send mail, charge a card), so only tools both versions annotate
 * `readOnlyHint: true` run, or those a suite call (`safe: true`) or the app config (`safeTools`)
 * vouches for; every other call is skipped and the report says why. Pure.
 */

export const SkippedCallSchema = z.strictObject({
  tool: z.string(),
  /** The suite call's name, or the tool for the default suite. */
  call: z.string(),
  reason: z.string(),
});
export type SkippedCall = z.infer<typeof SkippedCallSchema>;

export interface SafetyPolicy {
  /** The app is told it is a shadow (it changes nothing outside its private copy). */
  readonly shadowMode: boolean;
  /** Tools the app config vouches for. */
  readonly safeTools: readonly string[];
  readonly baseline: RawSurface;
  readonly candidate: RawSurface;
}

interface ToolItem {
  name: string;
  inputSchema?: { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  annotations?: { readOnlyHint?: unknown };
}

function tools(surface: RawSurface): Map<string, ToolItem> {
  const items = surface.tools.filter((t): t is ToolItem => typeof (t as ToolItem)?.name === 'string');
  return new Map(items.map((t) => [t.name, t]));
}

/** Why `tool` may not run on an app without a shadow mode, or undefined when it may. */
function unsafeReason(tool: string, policy: SafetyPolicy, vouched: boolean): string | undefined {
  if (policy.shadowMode || vouched || policy.safeTools.includes(tool)) return undefined;
  const readOnly = (surface: RawSurface) => tools(surface).get(tool)?.annotations?.readOnlyHint === true;
  const sides = [readOnly(policy.baseline) ? undefined : 'baseline', readOnly(policy.candidate) ? undefined : 'candidate'].filter(Boolean);
  if (sides.length === 0) return undefined;
  return `the app has no shadow mode and ${sides.join(' and ')} do${sides.length === 1 ? 'es' : ''} not annotate ${tool} readOnlyHint: true (mark the call safe: true, or list it in apps.NAME.safeTools)`;
}

/** The calls of `suite` that may run, and the skipped ones with their reason. */
export function selectSafeCalls(suite: Suite, policy: SafetyPolicy): { suite: Suite | undefined; skipped: SkippedCall[] } {
  const kept: SuiteCall[] = [];
  const skipped: SkippedCall[] = [];
  suite.calls.forEach((call, index) => {
    const reason = unsafeReason(call.tool, policy, call.safe === true);
    if (reason) skipped.push({ tool: call.tool, call: call.name ?? `${call.tool}#${index}`, reason });
    else kept.push(call);
  });
  return { suite: kept.length > 0 ? { ...suite, calls: kept } : undefined, skipped };
}

/** A placeholder value a JSON Schema accepts (its default, const, first enum value, or a typed stand-in). */
function placeholder(schema: Record<string, unknown>): unknown {
  if ('default' in schema) return schema.default;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'number' || type === 'integer') return typeof schema.minimum === 'number' ? schema.minimum : 1;
  if (type === 'boolean') return false;
  if (type === 'array') return [];
  if (type === 'object') return {};
  return 'wvo';
}

/**
 * The default suite of an app that brings none: one call per tool both versions list, with
 * placeholder values for its required inputs, kept only when it may run (`selectSafeCalls`).
 */
export function defaultAppSuite(policy: SafetyPolicy): { suite: Suite | undefined; skipped: SkippedCall[] } {
  const candidate = tools(policy.candidate);
  const calls: SuiteCall[] = [];
  const skipped: SkippedCall[] = [];
  for (const [name, tool] of tools(policy.baseline)) {
    if (!candidate.has(name)) {
      skipped.push({ tool: name, call: name, reason: 'the candidate does not list it (see the tool surface)' });
      continue;
    }
    const props = tool.inputSchema?.properties ?? {};
    const args = Object.fromEntries((tool.inputSchema?.required ?? []).map((key) => [key, placeholder(props[key] ?? {})]));
    calls.push({ tool: name, name, arguments: args });
  }
  const selected = selectSafeCalls({ calls } as Suite, policy);
  return { suite: selected.suite, skipped: [...skipped, ...selected.skipped] };
}
