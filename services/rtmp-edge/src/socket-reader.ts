import type { Socket } from 'node:net';
import { ProxyError } from '@srs-proxy/runtime';

export const PEER_CLOSED = 'SRSP_ERR_PEER_CLOSED';

/** The peer closed or reset the connection while the set-up phase waited for bytes. */
export class PeerClosedError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(PEER_CLOSED, message, { cause });
  }
}

/**
 * Pull-style reading of a socket for the set-up phases (handshake, commands). Buffered input is
 * bounded: past `highWater` bytes the socket is paused until the consumer takes data, so a peer
 * that floods during set-up costs at most `highWater` plus one read.
 */
export class SocketReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;
  private detached = false;
  private readonly onData = (b: Buffer) => {
    this.chunks.push(b);
    this.length += b.length;
    if (this.length > this.highWater) this.socket.pause();
    this.wake();
  };
  private readonly onEnd = () => this.finish(new PeerClosedError(`${this.name} closed the connection`));
  private readonly onError = (err: Error) => this.finish(new PeerClosedError(`${this.name} connection error: ${err.message}`, err));

  constructor(
    private readonly socket: Socket,
    private readonly name: string,
    private readonly highWater: number,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  private finish(err: Error): void {
    this.ended ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async wait(): Promise<void> {
    if (this.ended) throw this.ended;
    if (this.detached) throw new PeerClosedError(`${this.name} reader detached`);
    this.socket.resume();
    await new Promise<void>((resolve) => (this.waiter = resolve));
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    if (this.length <= this.highWater) this.socket.resume();
    return out;
  }

  /** Exactly `n` bytes. */
  async readExact(n: number): Promise<Buffer> {
    while (this.length < n) await this.wait();
    return this.take(n);
  }

  /** Whatever is buffered, waiting for at least one byte. */
  async readSome(): Promise<Buffer> {
    while (this.length === 0) await this.wait();
    return this.take(this.length);
  }

  /** Stops reading (the socket stays paused) and returns what was buffered. */
  detach(): Buffer {
    this.detached = true;
    this.socket.pause();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    const rest = this.chunks.length === 0 ? Buffer.alloc(0) : Buffer.concat(this.chunks);
    this.chunks = [];
    this.length = 0;
    this.wake();
    return rest;
  }
}
