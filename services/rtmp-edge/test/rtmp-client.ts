import { connect as tcpConnect } from 'node:net';
import { MessageConnection } from '../src/connection.ts';
import { HANDSHAKE_SIZE, clientC0C1, clientC2 } from '../src/rtmp/handshake.ts';
import { commandMessage, decodeCommand, isCommand, statusInfo, type Command } from '../src/rtmp/messages.ts';
import type { Amf0Object } from '../src/rtmp/amf0.ts';
import type { RtmpMessage } from '../src/rtmp/message-types.ts';

/** Bounded wait of the scripted client for any one answer. */
const CLIENT_WAIT_MS = 8_000;

/**
 * A scripted RTMP client for tests (what ffmpeg does, step by step and observable): handshake,
 * connect, createStream, publish/play, and the first status the server answers with.
 */
export class RawRtmpClient {
  private constructor(readonly conn: MessageConnection) {}

  static async open(port: number, host = '127.0.0.1'): Promise<RawRtmpClient> {
    const socket = tcpConnect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => {});
    socket.setNoDelay(true);
    const c = new RawRtmpClient(new MessageConnection(socket, 'server', { maxMessageSize: 16 << 20, maxChunkStreams: 64, maxBufferedBytes: 32 << 20 }, 1 << 20));
    socket.write(clientC0C1());
    const s = await c.withTimeout(c.conn.input.readExact(1 + 2 * HANDSHAKE_SIZE), 'handshake');
    socket.write(clientC2(s));
    return c;
  }

  async withTimeout<T>(p: Promise<T>, what: string, ms = CLIENT_WAIT_MS): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms)))]);
    } finally {
      clearTimeout(t);
    }
  }

  send(msg: RtmpMessage): void {
    this.conn.send(msg);
  }

  async next(ms = CLIENT_WAIT_MS): Promise<RtmpMessage> {
    return this.withTimeout(this.conn.nextMessage(), 'message', ms);
  }

  /** Reads until a command satisfies `pred`. */
  async waitCommand(pred: (c: Command) => boolean, what: string, ms = CLIENT_WAIT_MS): Promise<Command> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (!isCommand(m)) continue;
      const c = decodeCommand(m);
      if (pred(c)) return c;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  }

  async connect(tcUrl: string, extra: Amf0Object = {}): Promise<Command> {
    const app = new URL(tcUrl.replace(/^rtmp:/, 'http:')).pathname.slice(1);
    this.send(commandMessage('connect', 1, { app, tcUrl, flashVer: 'FMLE/3.0 (compatible; test)', ...extra }));
    return this.waitCommand((c) => c.tid === 1 && (c.name === '_result' || c.name === '_error'), 'connect result');
  }

  async createStream(tid = 4): Promise<number> {
    this.send(commandMessage('createStream', tid, null));
    const r = await this.waitCommand((c) => c.tid === tid && c.name === '_result', 'createStream result');
    return r.args[0] as number;
  }

  /** connect → releaseStream → FCPublish → createStream → publish; the first onStatus answered. */
  async publish(tcUrl: string, name: string): Promise<{ code: string; description: string; streamId: number }> {
    const c = await this.connect(tcUrl);
    if (c.name !== '_result') return { code: String(statusInfo(c)?.code), description: String(statusInfo(c)?.description), streamId: 0 };
    this.send(commandMessage('releaseStream', 2, null, [name]));
    this.send(commandMessage('FCPublish', 3, null, [name]));
    const sid = await this.createStream(4);
    this.send(commandMessage('publish', 5, null, [name, 'live'], sid, 8));
    const st = await this.waitCommand((x) => x.name === 'onStatus', 'publish status');
    return { code: String(statusInfo(st)?.code), description: String(statusInfo(st)?.description), streamId: sid };
  }

  /** connect → createStream → play; the first onStatus other than Play.Reset. */
  async play(tcUrl: string, name: string): Promise<{ code: string; description: string; streamId: number }> {
    await this.connect(tcUrl);
    const sid = await this.createStream(2);
    this.send(commandMessage('play', 0, null, [name], sid, 8));
    const st = await this.waitCommand((x) => x.name === 'onStatus' && statusInfo(x)?.code !== 'NetStream.Play.Reset', 'play status');
    return { code: String(statusInfo(st)?.code), description: String(statusInfo(st)?.description), streamId: sid };
  }

  /** Resolves when the server closes the connection (or after `ms`, with false). */
  closed(ms = CLIENT_WAIT_MS): Promise<boolean> {
    const s = this.conn.socket;
    if (s.destroyed || s.readableEnded) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      s.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
      s.resume();
    });
  }

  close(): void {
    this.conn.socket.destroy();
  }
}
