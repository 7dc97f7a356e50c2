import { createHash } from 'node:crypto';
import type { ExecutionPlan } from './executor.js';

/** `sandbox` when SANDBOX_MODE=strict ran it in the sandbox dir, else `workdir`. */
export type CwdKind = 'sandbox' | 'workdir';

export function cwdKind(plan: Pick<ExecutionPlan, 'sandbox'>): CwdKind {
  return plan.sandbox ? 'sandbox' : 'workdir';
}

/**
 * Pure: a stable id for "this run": what determines its outcome (argv, which directory, timeout,
 * output cap). The directory is its kind, not its path: a sandbox lane's copy lives elsewhere,
 * and the same command there must find the live worker's record.
 */
export function commandFingerprint(plan: Pick<ExecutionPlan, 'argv' | 'sandbox' | 'timeout_ms' | 'output_cap_bytes'>): string {
  const identity = JSON.stringify({
    v: 1,
    argv: plan.argv,
    cwd_kind: cwdKind(plan),
    timeout_ms: plan.timeout_ms,
    output_cap_bytes: plan.output_cap_bytes,
  });
  return createHash('sha256').update(identity).digest('hex');
}

/** sha256 of the full output (stdout, NUL, stderr): the record keeps only a capped copy. */
export function outputDigest(stdout: string, stderr: string): string {
  return createHash('sha256').update(stdout).update('\0').update(stderr).digest('hex');
}
