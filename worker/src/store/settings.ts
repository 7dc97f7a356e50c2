import type { Db } from './database.js';

/** Feature flags the promotion flips one at a time; each changes real behaviour (see below). */
export const FLAG_VALUES = {
  /** dispatch: `compact` prompts carry only the title and command (fewer tokens, less pressure). */
  PROMPT_MODE: ['standard', 'compact'],
  /** executor: `strict` allows only sandbox-safe programs, halves timeouts, runs in state/sandbox. */
  SANDBOX_MODE: ['off', 'strict'],
  /** verify: `on` runs only the checks tagged for the task's area (untagged checks always run). */
  SELECTIVE_TESTS: ['off', 'on'],
} as const;
export type FlagName = keyof typeof FLAG_VALUES;
export const FLAG_NAMES = Object.keys(FLAG_VALUES) as FlagName[];
export type Flags = { [K in FlagName]: (typeof FLAG_VALUES)[K][number] };
export const DEFAULT_FLAGS: Flags = { PROMPT_MODE: 'standard', SANDBOX_MODE: 'off', SELECTIVE_TESTS: 'off' };

export const AUTOPILOT_MODES = ['manual', 'assist', 'auto'] as const;
export type AutopilotMode = (typeof AUTOPILOT_MODES)[number];

export const FLAG_SOURCES = ['default', 'db', 'env'] as const;
export type FlagSource = (typeof FLAG_SOURCES)[number];

export interface ResolvedFlag<K extends FlagName = FlagName> {
  readonly value: Flags[K];
  readonly source: FlagSource;
}
export type ResolvedFlags = { [K in FlagName]: ResolvedFlag<K> };

export const DEFAULT_TOKEN_BUDGET = 200_000;

export function readSetting(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function writeSetting(db: Db, key: string, value: string, at: string): void {
  db.prepare(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  ).run(key, value, at);
}

function isFlagValue<K extends FlagName>(name: K, value: string | undefined): value is Flags[K] {
  return value !== undefined && (FLAG_VALUES[name] as readonly string[]).includes(value);
}

/**
 * Effective flags: an env override (the lane's launch config) beats the settings table, which
 * beats the default. Unknown values in the table are ignored (default wins) rather than crashing.
 */
export function resolveFlags(db: Db, overrides: Partial<Flags> = {}): ResolvedFlags {
  const resolve = <K extends FlagName>(name: K): ResolvedFlag<K> => {
    const override = overrides[name];
    if (override !== undefined) return { value: override, source: 'env' };
    const stored = readSetting(db, name);
    if (isFlagValue(name, stored)) return { value: stored, source: 'db' };
    return { value: DEFAULT_FLAGS[name], source: 'default' };
  };
  return {
    PROMPT_MODE: resolve('PROMPT_MODE'),
    SANDBOX_MODE: resolve('SANDBOX_MODE'),
    SELECTIVE_TESTS: resolve('SELECTIVE_TESTS'),
  };
}

export function flagValues(flags: ResolvedFlags): Flags {
  return {
    PROMPT_MODE: flags.PROMPT_MODE.value,
    SANDBOX_MODE: flags.SANDBOX_MODE.value,
    SELECTIVE_TESTS: flags.SELECTIVE_TESTS.value,
  };
}

/** Parses `PROMPT_MODE=compact,SANDBOX_MODE=strict` (WVO_FLAGS); returns the bad entry on error. */
export function parseFlagOverrides(text: string | undefined): { flags: Partial<Flags> } | { error: string } {
  const flags: Partial<Record<FlagName, string>> = {};
  for (const entry of (text ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const [name, value] = entry.split('=', 2).map((part) => part.trim());
    if (!name || !(name in FLAG_VALUES) || !isFlagValue(name as FlagName, value)) return { error: entry };
    flags[name as FlagName] = value;
  }
  return { flags: flags as Partial<Flags> };
}

export function readAutopilotMode(db: Db): AutopilotMode {
  const stored = readSetting(db, 'AUTOPILOT_MODE');
  return (AUTOPILOT_MODES as readonly string[]).includes(stored ?? '') ? (stored as AutopilotMode) : 'assist';
}

export function readTokenBudget(db: Db): number {
  const stored = Number(readSetting(db, 'TOKEN_BUDGET'));
  return Number.isInteger(stored) && stored > 0 ? stored : DEFAULT_TOKEN_BUDGET;
}
