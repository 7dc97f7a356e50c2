/** The runtime room's public surface: other rooms import from here only. */
export * from './lane-runtime.js';
export { RuntimeError, RUNTIME_ERROR_CODES } from './errors.js';
export type { RuntimeErrorCode } from './errors.js';
export { validateLaneSpec } from './lane-spec.js';
export { probeReady, waitReady } from './readiness.js';
export { createRuntime, dockerRuntimeFrom, localRuntimeFrom, INSTALL_ROOT } from './select.js';
export type { SelectedRuntime, CreateRuntimeOptions } from './select.js';
export { DockerRuntime } from './docker/docker-runtime.js';
export type { DockerRuntimeOptions } from './docker/docker-runtime.js';
export { LABELS, WORKER_PORT, containerCreateOptions } from './docker/container-spec.js';
export { parseDockerEndpoint } from './docker/host-url.js';
export { LocalRuntime } from './local/local-runtime.js';
export type { LocalRuntimeOptions } from './local/local-runtime.js';
export { buildImages, buildImage, resolveNodeImage, packageVersion } from './images/image-build.js';
export type { BuiltImage, BuildImagesOptions } from './images/image-build.js';
export { ensureBaseImage } from './images/base-image.js';
export { IMAGE_KINDS } from './images/build-context.js';
export type { ImageKind } from './images/build-context.js';
