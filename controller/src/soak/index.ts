/**
 * The soak room (issue 11): fork the live state at a journal seq, replay the live journal to a
 * baseline replica and the candidate in sandbox, compare answers and state at checkpoints, and
 * keep the record in controller.db. Other rooms import only this file.
 */
export { soakErrors } from './errors.js';
export { compareEntry, type EntryComparison, type ReplayOutcome } from './answer-compare.js';
export { checkpointParity, SOAK_STATE_IGNORE, verifyCheckpoint, type CheckpointCopies } from './checkpoint-parity.js';
export { CheckpointDiffThread, checkpointThreadScript, diffCheckpointOffThread, type CheckpointDiff } from './checkpoint-diff.js';
export { forkLive, readForkJournal, type Fork } from './fork.js';
export { JournalClient, type LiveEntry } from './journal-client.js';
export { entryIdentity, newEntries, pullAfter } from './journal-order.js';
export { IDLE_SAVE_MS, LONG_POLL_MS, longPollWait, nextIdleWait, PagePuller } from './page-puller.js';
export { registerSoakMetrics } from './soak-metrics.js';
export { OWNER_STALE_MS, ownerAlive, requireCleanSoak, SoakOperations, type SoakOperationsDeps, type SoakStatus } from './soak-operations.js';
export { DEFAULT_SOAK_SETTINGS, parseSoakStart, SoakStartInputSchema, type SoakStartInput, type SoakStartOptions } from './soak-options.js';
export { cleanSoakMs, ForkSourceSchema, SOAK_STATES, SoakRecordSchema, type ForkSource, type SoakCheckpoint, type SoakRecord, type SoakSettings, type SoakState } from './soak-record.js';
export { SoakRunner, type SoakRunnerDeps } from './soak-runner.js';
export { SoakStore } from './soak-store.js';
export { soakSummaryLine, soakReportHtml } from './soak-view.js';
export { soakDifferences, withSoakSection, writeSoakArtifacts } from './soak-artifacts.js';
