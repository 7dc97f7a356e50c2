import { Agent, type ClientRequestArgs } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';

/** What the engine's host runs per connection, as `docker -H ssh://…` does. */
export const DIAL_STDIO = 'docker system dial-stdio';

type Channel = ClientChannel & { wvoRefd?: boolean };

/**
 * HTTP to a Docker engine over ssh: one ssh connection per host, each HTTP connection an exec
 * channel running `docker system dial-stdio` there, kept alive between requests. docker-modem's
 * own ssh transport opens a new ssh connection for every request (seconds each, bench/engines.ts),
 * paid again by each of a lane start's few dozen requests. The ssh connection keeps the process alive only while
 * a request is in flight (idle channels are unref'd like idle sockets), so CLIs exit on time.
 */
export class SshDockerAgent extends Agent {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private socket: Socket | undefined;
  private readonly channels = new Set<Channel>();
  /** Channels asked for and not yet open: they hold the process too. */
  private opening = 0;

  constructor(private readonly config: ConnectConfig & { host: string; port: number }) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  private connectClient(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= new Promise<Client>((resolve, reject) => {
      const client = new Client();
      // Our own socket, so we can unref it while idle (ssh2 would keep the process alive).
      const socket = connect({ host: this.config.host, port: this.config.port });
      let ready = false;
      client.on('ready', () => {
        ready = true;
        this.client = client;
        this.socket = socket;
        this.connecting = undefined;
        this.updateRef();
        resolve(client);
      });
      client.on('error', (error) => {
        if (!ready) {
          this.connecting = undefined;
          socket.destroy();
          reject(error);
        }
      });
      client.on('close', () => {
        if (this.client === client) {
          this.client = undefined;
          this.socket = undefined;
        }
        if (!ready) {
          this.connecting = undefined;
          reject(Object.assign(new Error('ssh connection closed before it was ready'), { code: 'ECONNRESET' }));
        }
      });
      client.connect({ ...this.config, sock: socket });
    });
    return this.connecting;
  }

  /** Ref the ssh socket while any channel serves a request; unref it when all are idle. */
  private updateRef(): void {
    if (!this.socket) return;
    if (this.opening > 0 || [...this.channels].some((c) => c.wvoRefd)) this.socket.ref();
    else this.socket.unref();
  }

  private socketLike(channel: Channel): Duplex {
    channel.wvoRefd = true;
    this.channels.add(channel);
    let stderr = '';
    let answered = false;
    channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    channel.on('data', () => (answered = true));
    channel.on('close', () => {
      this.channels.delete(channel);
      this.updateRef();
    });
    channel.on('exit', () => {
      // dial-stdio failing on the far side (no docker CLI, engine down) says why on stderr only.
      if (!answered && stderr.trim()) (channel as unknown as Duplex).destroy(Object.assign(new Error(`on the ssh host: ${stderr.trim()}`), { code: 'EDIALSTDIO' }));
    });
    // The http machinery treats its connection as a net.Socket.
    const shims = {
      setKeepAlive: () => channel,
      setNoDelay: () => channel,
      setTimeout: () => channel,
      ref: () => {
        channel.wvoRefd = true;
        this.updateRef();
        return channel;
      },
      unref: () => {
        channel.wvoRefd = false;
        this.updateRef();
        return channel;
      },
    };
    Object.assign(channel, shims);
    this.updateRef();
    return channel;
  }

  override createConnection(_options: ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const done = callback ?? (() => undefined);
    this.opening++;
    const opened = () => {
      this.opening--;
      this.updateRef();
    };
    this.connectClient().then(
      (client) =>
        client.exec(DIAL_STDIO, (error, channel) => {
          if (error) done(error, undefined as unknown as Duplex);
          else done(null, this.socketLike(channel as Channel));
          opened();
        }),
      (error: Error) => {
        opened();
        done(error, undefined as unknown as Duplex);
      },
    );
    return undefined;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    (socket as unknown as { unref(): void }).unref();
    return true;
  }

  override destroy(): void {
    super.destroy();
    this.client?.end();
    this.client = undefined;
    this.socket = undefined;
  }
}
