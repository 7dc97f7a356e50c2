/**
 * The controller API room (DESIGN §1, §9): `wvo serve`'s HTTP routes, bearer auth, SSE and the
 * typed client. The operations behind the routes, and the loops that run beside them, live in
 * operations/.
 */
export { startController, buildControllerApi, type ControllerApiDeps, type RunningController } from './server.js';
export type { ControllerContext } from '../operations/index.js';
export {
  serveOptionsSchema,
  parseServeOptions,
  parseListen,
  isLoopbackHost,
  type ServeOptions,
  type ServeOptionsInput,
  type ListenAddress,
} from './serve-options.js';
export { TOKEN_ENV, bearerChecker, readControllerToken } from './auth.js';
export { httpStatusFor } from './http-errors.js';
export { apiErrors } from './errors.js';
export { sseFrame, SseHub } from './sse.js';
export { ControllerClient, ControllerApiError, type ControllerClientOptions } from './client.js';
