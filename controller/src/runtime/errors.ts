import { defineErrors, type CatalogueErrorOptions, type ErrorSpec } from '../../../common/src/error-catalogue.js';
import { WvoError } from '../../../common/src/errors.js';

/**
 * Runtime error codes, one place (docs/errors.md "Runtime and images"). Each constructor names the
 * offending input as `subject` and says what to do next.
 */
export const RUNTIME_ERROR_CODES = [
  'WVO_IMAGE_NOT_FOUND',
  'WVO_IMAGE_BUILD_FAILED',
  'WVO_ENGINE_UNREACHABLE',
  'WVO_LANE_EXITED',
  'WVO_LANE_NOT_READY',
  'WVO_LANE_NOT_FOUND',
  'WVO_LANE_NAME_TAKEN',
  'WVO_LANE_NAME_INVALID',
  'WVO_LANE_SPEC_INVALID',
  'WVO_STATE_DIR_MISSING',
  'WVO_STATE_DIR_NOT_WRITABLE',
  'WVO_HOST_URL_INVALID',
  'WVO_HOST_UNKNOWN',
  'WVO_TRANSFER_FAILED',
  'WVO_RUNTIME_UNAVAILABLE',
  'WVO_BASE_IMAGE_FAILED',
  'WVO_ENGINE_AUTH_FAILED',
  'WVO_ENGINE_UNTRUSTED',
  'WVO_HOST_CREDENTIAL_UNREADABLE',
  'WVO_STATE_VERIFY_FAILED',
  'WVO_STATE_REMOTE_EXISTS',
  'WVO_STATE_LIVE_ELSEWHERE',
  'WVO_STATE_LIVE_SNAPSHOT_MISSING',
  'WVO_STATE_LIVE_SNAPSHOT_FAILED',
  'WVO_REMOTE_PATH_INVALID',
  'WVO_SWARM_NOT_INITIALISED',
  'WVO_SWARM_NODE_UNKNOWN',
] as const;
export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

/**
 * The runtime's catalogue (status 500: what the controller API answered before catalogues). A
 * code added to RUNTIME_ERROR_CODES fails the type check until it is declared here.
 */
export const runtimeErrors = defineErrors('runtime', {
  WVO_IMAGE_NOT_FOUND: { message: "The lane's image is not on the engine" },
  WVO_IMAGE_BUILD_FAILED: { message: 'The image build failed' },
  WVO_ENGINE_UNREACHABLE: { message: 'The Docker engine did not answer' },
  WVO_LANE_EXITED: { message: 'The lane exited during startup' },
  WVO_LANE_NOT_READY: { message: 'The lane did not become ready before the deadline' },
  WVO_LANE_NOT_FOUND: { message: 'No lane with that name' },
  WVO_LANE_NAME_TAKEN: { message: 'A lane or container with that name exists', exitCode: 2 },
  WVO_LANE_NAME_INVALID: { message: 'The lane name is invalid', exitCode: 2 },
  WVO_LANE_SPEC_INVALID: { message: 'The lane spec cannot be run' },
  WVO_STATE_DIR_MISSING: { message: "The lane's state directory does not exist" },
  WVO_STATE_DIR_NOT_WRITABLE: { message: "The lane's state directory is not writable" },
  WVO_HOST_URL_INVALID: { message: 'The Docker endpoint URL is invalid', exitCode: 2 },
  WVO_HOST_UNKNOWN: { message: 'No host with that name', exitCode: 2 },
  WVO_TRANSFER_FAILED: { message: 'Sending the image to the host failed' },
  WVO_RUNTIME_UNAVAILABLE: { message: 'Unknown runtime kind', exitCode: 2 },
  WVO_BASE_IMAGE_FAILED: { message: 'The offline Node base image could not be assembled' },
  WVO_ENGINE_AUTH_FAILED: { message: 'The engine refused our credentials (ssh key or client certificate)' },
  WVO_ENGINE_UNTRUSTED: { message: "The engine's identity is not trusted (CA or ssh host key)" },
  WVO_HOST_CREDENTIAL_UNREADABLE: { message: "A host's credential file cannot be read", exitCode: 2 },
  WVO_STATE_VERIFY_FAILED: { message: "A lane's state copy on its host does not match the snapshot manifest" },
  WVO_STATE_REMOTE_EXISTS: { message: "A live lane's state volume already exists on the host" },
  WVO_STATE_LIVE_ELSEWHERE: { message: "The deployment's live state is a volume on another host or node", exitCode: 2 },
  WVO_STATE_LIVE_SNAPSHOT_MISSING: { message: "The deployment's live state volume is not on its host" },
  WVO_STATE_LIVE_SNAPSHOT_FAILED: { message: 'The snapshot of the live state volume failed on its host' },
  WVO_REMOTE_PATH_INVALID: { message: 'A host:HOST:VOLUME/FILE path is malformed or names nothing', exitCode: 2 },
  WVO_SWARM_NOT_INITIALISED: { message: 'The swarm manager is not in swarm mode' },
  WVO_SWARM_NODE_UNKNOWN: { message: 'No swarm node carries that label', exitCode: 2 },
} satisfies Record<RuntimeErrorCode, ErrorSpec>);

/** A WvoError of the runtime; `options.exitCode` overrides the catalogue's where a code is a usage error at one site only. */
export class RuntimeError extends WvoError {
  constructor(code: RuntimeErrorCode, message: string, options: CatalogueErrorOptions = {}) {
    super(code, message, runtimeErrors.options(code, options));
    this.name = 'RuntimeError';
  }
}

/** Last lines of a log, indented, for an error message. */
export function logExcerpt(logs: string, lines = 20): string {
  const tail = logs.trimEnd().split('\n').slice(-lines);
  return tail.length === 0 || (tail.length === 1 && tail[0] === '') ? '  (no output)' : tail.map((l) => `  | ${l}`).join('\n');
}

export function laneNotFound(name: string, scope: string): RuntimeError {
  return new RuntimeError('WVO_LANE_NOT_FOUND', `no lane named "${name}" in ${scope}`, {
    subject: name,
    hint: 'List lanes with `wvo lanes`.',
  });
}
