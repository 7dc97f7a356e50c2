import { connectMcp } from '../../../common/src/mcp-client.js';
import { toErrorJson } from '../../../common/src/errors.js';
import type { LaneRuntime } from '../runtime/index.js';
import type { ShadowResult, Suite } from '../shadow/index.js';

export interface SchemaCompatInput {
  runtime: LaneRuntime;
  candidateImage: string;
  baselineImage: string;
  /** A snapshot copy reserved for this check (it is migrated for real). */
  stateDir: string;
  laneName: (role: string) => string;
  deploymentId: string;
  readyTimeoutMs: number;
  /** Shorter deadline for the baseline on the migrated copy: a refusal answers at once. */
  compatReadyTimeoutMs: number;
  suite: Suite;
  /** The shadow run: which calls the baseline answered without error on unmigrated state. */
  shadow: ShadowResult;
  /**
   * The shadow lanes' mode. In a sandbox later calls see earlier calls' writes (verify after
   * dispatch), so the baseline replays the snapshot pass in order, in a sandbox on this copy.
   */
  mode: 'sandbox' | 'dry_run';
  track: (lane: string) => void;
  untrack: (lane: string) => void;
  say: (message: string) => void;
}

export interface SchemaCompatResult {
  safe: boolean;
  reason?: string;
  migrations: { before?: number; after?: number };
  brokenCalls?: string[];
}

async function schemaVersion(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/version`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { schema_version?: number };
    return body.schema_version;
  } catch {
    return undefined;
  }
}

/**
 * Is rolling back safe? Run the candidate (not DRY_RUN) on a snapshot copy so its migrations
 * apply, then start the baseline image on that migrated copy: if it is not ready, or calls it
 * answered before now fail, the upgrade is not rollback-safe (DESIGN §4 step 8).
 */
export async function checkSchemaCompat(input: SchemaCompatInput): Promise<SchemaCompatResult> {
  const { runtime } = input;
  const candidateName = input.laneName('compat-candidate');
  const baselineName = input.laneName('compat-baseline');

  const remove = async (name: string) => {
    await runtime.removeLane(name, { timeoutMs: 5_000 }).catch(() => undefined);
    input.untrack(name);
  };

  input.say('applying the candidate\'s migrations to a snapshot copy');
  input.track(candidateName);
  let after: number | undefined;
  try {
    const candidate = await runtime.startLane(
      { name: candidateName, image: input.candidateImage, stateDir: input.stateDir, dryRun: false, role: 'schema-probe', deploymentId: input.deploymentId },
      { readyTimeoutMs: input.readyTimeoutMs },
    );
    after = await schemaVersion(candidate.url!);
  } finally {
    await remove(candidateName);
  }

  input.say('starting the baseline on the migrated copy');
  input.track(baselineName);
  try {
    let baselineUrl: string;
    try {
      const baseline = await runtime.startLane(
        { name: baselineName, image: input.baselineImage, stateDir: input.stateDir, mode: input.mode, role: 'shadow-baseline', deploymentId: input.deploymentId },
        { readyTimeoutMs: input.compatReadyTimeoutMs },
      );
      baselineUrl = baseline.url!;
    } catch (error) {
      const detail = toErrorJson(error);
      return {
        safe: false,
        reason: `the baseline is not ready on the migrated schema: ${String(detail.message).split('\n')[0]}`,
        migrations: { after },
      };
    }
    const before = await schemaVersion(baselineUrl);
    const session = await connectMcp(baselineUrl, 'wvo-schema-compat');
    const broken: string[] = [];
    try {
      // Every snapshot-pass call in order (a sandbox's later answers depend on earlier writes);
      // only those the baseline answered without error before can break.
      for (const call of input.shadow.calls.filter((c) => (c.pass ?? 'snapshot') === 'snapshot')) {
        const answer = await session.call(call.tool, call.arguments).catch(() => ({ isError: true }));
        if (answer.isError && !call.is_error.baseline) broken.push(call.name);
      }
    } finally {
      await session.close();
    }
    if (broken.length > 0) {
      return {
        safe: false,
        reason: `the baseline answers ${broken.length} call(s) with errors on the migrated schema`,
        migrations: { before, after },
        brokenCalls: broken,
      };
    }
    return { safe: true, migrations: { before, after } };
  } finally {
    await remove(baselineName);
  }
}
