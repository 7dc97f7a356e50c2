import { INFLIGHT_MEMBER_STATES, SETTLED_FLEET_STATES, type FleetMember, type FleetRecord, type FleetState, type MemberState } from './fleet-record.js';

/**
 * The fleet's reconcile step (pure, like the promotion state machine): from the record and the
 * time, what to do next. The runner carries it out, writes the result, and asks again; a
 * resumed runner asks the same question of the same record, so a crash anywhere resumes.
 */
export type FleetAction =
  | { kind: 'done' }
  /** Begin these members' promotions (at most the boot limit in flight). */
  | { kind: 'begin'; members: string[] }
  /** Wait until one of these in-flight members settles. */
  | { kind: 'await'; members: string[] }
  /** The pause between waves. */
  | { kind: 'wait'; untilMs: number }
  /** A failure stopped the fleet: members not begun are skipped. */
  | { kind: 'skip'; members: string[] }
  /** Policy rollback: roll these promoted members back. */
  | { kind: 'revert'; members: string[] }
  | { kind: 'finish'; state: Exclude<FleetState, 'running'>; reason: string | null };

const FAILED: readonly MemberState[] = ['rolled_back', 'failed'];

export function decideFleet(record: FleetRecord, now: number): FleetAction {
  if (SETTLED_FLEET_STATES.includes(record.state)) return { kind: 'done' };
  const { members } = record;
  const names = (pick: (m: FleetMember) => boolean) => members.filter(pick).map((m) => m.name);
  const inflight = names((m) => INFLIGHT_MEMBER_STATES.includes(m.state));
  const failed = members.filter((m) => FAILED.includes(m.state));
  if (failed.length > 0) {
    // A failure stops the wave: what is in flight finishes, nothing new begins.
    if (inflight.length > 0) return { kind: 'await', members: inflight };
    const pending = names((m) => m.state === 'pending');
    if (pending.length > 0) return { kind: 'skip', members: pending };
    const reason = `${failed.map((m) => `${m.name}: ${m.reason ?? m.state}`).join('; ')}`;
    if (record.onFailure === 'rollback') {
      const promoted = names((m) => m.state === 'promoted');
      if (promoted.length > 0) return { kind: 'revert', members: promoted };
      return { kind: 'finish', state: 'rolled_back', reason };
    }
    return { kind: 'finish', state: 'failed', reason };
  }
  const wave = members.find((m) => m.state !== 'promoted')?.wave;
  if (wave === undefined) return { kind: 'finish', state: 'promoted', reason: null };
  const pending = names((m) => m.wave === wave && m.state === 'pending');
  const waveBegun = members.some((m) => m.wave === wave && m.state !== 'pending');
  if (!waveBegun && record.nextWaveAt !== null && now < record.nextWaveAt) return { kind: 'wait', untilMs: record.nextWaveAt };
  const room = record.bootLimit - inflight.length;
  if (pending.length > 0 && room > 0) return { kind: 'begin', members: pending.slice(0, room) };
  return { kind: 'await', members: inflight };
}

/** Pure record updates the runner applies (each one then persisted). */
export function updateMember(record: FleetRecord, name: string, change: Partial<FleetMember>, now: number): FleetRecord {
  const members = record.members.map((m) => (m.name === name ? { ...m, ...change } : m));
  const member = members.find((m) => m.name === name)!;
  let waves = record.waves;
  let nextWaveAt = record.nextWaveAt;
  if (change.state !== undefined && INFLIGHT_MEMBER_STATES.includes(change.state)) {
    waves = waves.map((w) => (w.index === member.wave && w.startedAt === null ? { ...w, startedAt: now } : w));
  }
  const waveMembers = members.filter((m) => m.wave === member.wave);
  const settled = (m: FleetMember) => m.state !== 'pending' && !INFLIGHT_MEMBER_STATES.includes(m.state);
  if (change.state !== undefined && waveMembers.every(settled)) {
    waves = waves.map((w) => (w.index === member.wave && w.finishedAt === null ? { ...w, finishedAt: now } : w));
    if (waveMembers.every((m) => m.state === 'promoted')) nextWaveAt = now + record.pauseMs;
  }
  return { ...record, members, waves, nextWaveAt, updatedAt: now };
}

export function finishFleet(record: FleetRecord, state: Exclude<FleetState, 'running'>, reason: string | null, now: number): FleetRecord {
  return { ...record, state, reason, finishedAt: now, updatedAt: now };
}
