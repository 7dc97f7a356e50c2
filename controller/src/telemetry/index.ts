/** The telemetry room (the controller's prom-client registry): other rooms import only this file. */
export * from './controller-metrics.js';
