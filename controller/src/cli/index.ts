/** The CLI room: the demo reuses its per-command context (config, runtime, images); nothing else imports it. */
export * from './context.js';
