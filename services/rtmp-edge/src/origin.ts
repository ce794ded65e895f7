import type { Socket } from 'node:net';
import type { Endpoint } from '@srs-proxy/balancer';
import { dialTcp, OriginRejectedError, OriginUnreachableError } from '@srs-proxy/routing';
import { MessageConnection } from './connection.ts';
import { HANDSHAKE_SIZE, clientC0C1, clientC2 } from './rtmp/handshake.ts';
import { decodeCommand, isCommand, statusCode, statusInfo, CSID_COMMAND, commandMessage, type Command } from './rtmp/messages.ts';
import { MSG, type RtmpMessage } from './rtmp/message-types.ts';
import type { ChunkReaderLimits } from './rtmp/chunk-reader.ts';

/** What the client asked for, recorded during identify and replayed to the origin. */
export interface RecordedSetup {
  role: 'publish' | 'play';
  tcUrl: string;
  streamName: string;
  /** The client's `connect` message, replayed byte for byte (all properties, query intact). */
  connect: RtmpMessage;
  /** Commands and user control messages between connect and publish/play, in order. */
  sequence: RtmpMessage[];
  /** The `publish` or `play` message. */
  start: RtmpMessage;
  /** The client's outbound chunk size when it sent publish/play. */
  chunkSize: number;
}

export interface ReplayResult {
  /** Message stream id the origin created (the client's is `start.streamId`). */
  originStreamId: number;
  /** The origin's `connect` result, for the log (`data.srs_id` when the origin is SRS). */
  serverId: string | undefined;
}

// Transaction id for a createStream the proxy adds when the client published without one.
const INJECTED_CREATE_STREAM_TID = 0x7ffe;

/** A set-up RTMP connection to an origin (dialled by @srs-proxy/routing's dialTcp). */
export class RtmpOriginLink {
  readonly conn: MessageConnection;

  constructor(socket: Socket, limits: ChunkReaderLimits, highWater: number) {
    this.conn = new MessageConnection(socket, 'origin', limits, highWater);
  }

  /** Simple handshake as a client; any failure means the origin is not a working RTMP server. */
  async handshake(): Promise<void> {
    try {
      this.conn.socket.write(clientC0C1());
      const s = await this.conn.input.readExact(1 + 2 * HANDSHAKE_SIZE);
      this.conn.socket.write(clientC2(s));
    } catch (err) {
      throw new OriginUnreachableError(`handshake with origin failed: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }

  private async until<T>(what: string, pick: (msg: RtmpMessage, cmd: Command | undefined) => T | undefined): Promise<T> {
    for (;;) {
      let msg: RtmpMessage;
      try {
        msg = await this.conn.nextMessage();
      } catch (err) {
        throw new OriginRejectedError(`origin closed while waiting for ${what}: ${err instanceof Error ? err.message : String(err)}`, err);
      }
      // Anything else the origin says during set-up (acks, bandwidth, onBWDone, Stream Begin,
      // Play.Reset, results of fire-and-forget calls) is consumed and not passed to the client.
      const cmd = isCommand(msg) ? decodeCommand(msg) : undefined;
      const r = pick(msg, cmd);
      if (r !== undefined) return r;
    }
  }

  private async call(msg: RtmpMessage, tid: number, what: string): Promise<Command> {
    this.conn.send(msg);
    return this.until(what, (_m, cmd) => {
      if (!cmd || cmd.tid !== tid || (cmd.name !== '_result' && cmd.name !== '_error')) return undefined;
      if (cmd.name === '_error') throw new OriginRejectedError(`origin refused ${what}: ${describe(cmd)}`);
      return cmd;
    });
  }

  /**
   * Replays the client's session: its connect (verbatim), its calls in order (waiting only for
   * createStream, whose stream id the rest needs), then publish/play, until the origin reports
   * Publish.Start / Play.Start. Error statuses and `_error` become OriginRejectedError.
   */
  async replay(setup: RecordedSetup): Promise<ReplayResult> {
    // The origin will read the client's chunking unchanged, so it learns the client's chunk size
    // first thing, well apart from relayed data: nginx-rtmp mis-parses data that shares a read
    // with a Set Chunk Size that lowers the size.
    this.conn.setChunkSize(setup.chunkSize);
    const connect = decodeCommand(setup.connect);
    const connectResult = await this.call({ ...setup.connect, csid: CSID_COMMAND, streamId: 0, timestamp: 0 }, connect.tid, 'connect');
    const data = statusInfo(connectResult)?.data;
    const serverId = data && typeof data === 'object' && 'props' in data ? String((data.props as Record<string, unknown>).srs_id ?? '') || undefined : undefined;

    const clientStreamId = setup.start.streamId;
    let originStreamId: number | undefined;
    const mapId = (id: number) => (originStreamId !== undefined && id === clientStreamId && id !== 0 ? originStreamId : id);
    for (const msg of setup.sequence) {
      if (msg.type === MSG.userControl) {
        const payload = Buffer.from(msg.payload);
        // Set Buffer Length (event 3) names the client's stream id in its payload.
        if (payload.length >= 6 && payload.readUInt16BE(0) === 3) payload.writeUInt32BE(mapId(payload.readUInt32BE(2)) >>> 0, 2);
        this.conn.send({ ...msg, payload, streamId: 0 });
        continue;
      }
      const cmd = decodeCommand(msg);
      if (cmd.name === 'createStream') {
        originStreamId = createdStreamId(await this.call({ ...msg, csid: CSID_COMMAND }, cmd.tid, 'createStream'));
      } else {
        this.conn.send({ ...msg, streamId: mapId(msg.streamId) });
      }
    }
    if (originStreamId === undefined) {
      const tid = INJECTED_CREATE_STREAM_TID;
      originStreamId = createdStreamId(await this.call(commandMessage('createStream', tid, null), tid, 'createStream'));
    }
    const start = decodeCommand(setup.start);
    this.conn.send({ ...setup.start, streamId: originStreamId });
    const want = setup.role === 'publish' ? 'NetStream.Publish.Start' : 'NetStream.Play.Start';
    await this.until(setup.role, (_m, cmd) => {
      if (!cmd) return undefined;
      if (cmd.name === '_error' && cmd.tid === start.tid && start.tid !== 0) throw new OriginRejectedError(`origin refused ${setup.role}: ${describe(cmd)}`);
      if (cmd.name !== 'onStatus') return undefined;
      const code = statusCode(cmd);
      if (code === want) return true;
      if (statusInfo(cmd)?.level === 'error' || /(BadName|Denied|Failed|NotFound|Rejected)/.test(code ?? '')) {
        throw new OriginRejectedError(`origin refused ${setup.role}: ${describe(cmd)}`);
      }
      return undefined;
    });
    return { originStreamId, serverId };
  }

  close(): void {
    this.conn.socket.destroy();
  }
}

function createdStreamId(cmd: Command): number {
  const id = cmd.args[0];
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0 || id > 0xffffffff) {
    throw new OriginRejectedError(`origin answered createStream with ${JSON.stringify(id)}`);
  }
  return id;
}

function describe(cmd: Command): string {
  const info = statusInfo(cmd);
  if (!info) return cmd.name;
  return [info.code, info.description].filter((x) => typeof x === 'string' && x).join(': ') || cmd.name;
}

/**
 * Liveness probe of an RTMP origin (a ProbeFn for OriginProber): a fresh connection and C0+C1,
 * answered when S0+S1 arrive, then closed before C2. A hung process's kernel still accepts the
 * connection and queues C0+C1; only the process sends S0+S1.
 */
export async function probeRtmpOrigin(endpoint: Endpoint, signal: AbortSignal, connectTimeoutMs: number): Promise<void> {
  const socket = await dialTcp(endpoint, connectTimeoutMs);
  const release = (): void => {
    socket.destroy();
  };
  if (signal.aborted) {
    release();
    return;
  }
  signal.addEventListener('abort', release, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      let got = 0;
      socket.on('data', (b: Buffer) => {
        got += b.length;
        if (got >= 1 + HANDSHAKE_SIZE) resolve();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`origin closed the probe after ${got} bytes`)));
      socket.write(clientC0C1());
    });
  } finally {
    signal.removeEventListener('abort', release);
    release();
  }
}
