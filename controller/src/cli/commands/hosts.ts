import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { dockerRuntimeFrom } from '../../runtime/index.js';
import { action, printResult, type OutputOptions } from '../output.js';

export interface HostCheck {
  name: string;
  endpoint: string;
  /** How the engine is reached: unix socket, plain tcp, tcp with TLS, or ssh. */
  transport: 'unix' | 'tcp' | 'tls' | 'ssh';
  ok: boolean;
  /** Engine version and API version when it answered. */
  version?: string;
  apiVersion?: string;
  network?: 'bridge' | 'host';
  address: string;
  lanes?: number;
  error?: { code: string; message: string };
}

export function register(program: Command): void {
  const hosts = program.command('hosts').description('Docker hosts from config');
  hosts
    .command('check')
    .description('Ping every host (the implicit "local" one and config hosts); say how lanes are networked there')
    .option('--config <file>', 'config file (default ./wvo.config.json)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: OutputOptions & { config?: string }) => {
        const loaded = loadConfig(options.config ? { file: options.config } : {});
        const runtime = dockerRuntimeFrom(loaded.config, { baseDir: loaded.baseDir });
        const checks: HostCheck[] = [];
        for (const name of runtime.hostNames()) {
          const host = runtime.host(name);
          const transport = host.endpoint.scheme === 'tcp' && host.endpoint.tls ? 'tls' : host.endpoint.scheme;
          try {
            await runtime.ping(name);
            const version = await host.docker.version();
            const network = await runtime.networkMode(host);
            const lanes = (await runtime.listLanes({ host: name })).length;
            checks.push({ name, endpoint: host.endpoint.url, transport, ok: true, version: version.Version, apiVersion: version.ApiVersion, network, address: host.address, lanes });
          } catch (error) {
            const e = error as { code?: string; message: string };
            checks.push({ name, endpoint: host.endpoint.url, transport, ok: false, address: host.address, error: { code: e.code ?? 'WVO_INTERNAL', message: e.message } });
          }
        }
        await runtime.close();
        const ok = checks.every((c) => c.ok);
        printResult(options, { ok, hosts: checks }, () =>
          checks
            .map((c) => (c.ok ? `ok    ${c.name}  ${c.endpoint} (${c.transport})  engine ${c.version} (API ${c.apiVersion}), ${c.network} network, lanes at ${c.address}, ${c.lanes} lane(s)` : `FAIL  ${c.name}  ${c.endpoint} (${c.transport})  ${c.error!.code}: ${c.error!.message}`))
            .join('\n'),
        );
        return ok ? 0 : 1;
      }),
    );
}
