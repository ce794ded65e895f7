import type { Socket } from 'node:net';
import { ChunkReader, type ChunkReaderLimits } from './rtmp/chunk-reader.ts';
import { ChunkWriter } from './rtmp/chunk-writer.ts';
import type { RtmpMessage } from './rtmp/message-types.ts';
import { SocketReader } from './socket-reader.ts';

/**
 * One side of a session during set-up: raw reads for the handshake, then whole messages through
 * the chunk reader; writes through the chunk writer. At hand-over the relay takes the reader's
 * state, its unparsed bytes and the writer's per-stream headers.
 */
export class MessageConnection {
  readonly input: SocketReader;
  readonly reader: ChunkReader;
  readonly writer = new ChunkWriter();

  constructor(
    readonly socket: Socket,
    name: string,
    limits: ChunkReaderLimits,
    highWater: number,
  ) {
    this.input = new SocketReader(socket, name, highWater);
    this.reader = new ChunkReader(limits);
  }

  async nextMessage(): Promise<RtmpMessage> {
    for (;;) {
      const msg = this.reader.next();
      if (msg) return msg;
      this.reader.push(await this.input.readSome());
    }
  }

  send(...msgs: RtmpMessage[]): void {
    if (this.socket.destroyed) return;
    const bufs = msgs.map((m) => this.writer.encode(m));
    this.socket.write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
  }

  /** Declares a new outbound chunk size to the peer and uses it from now on. */
  setChunkSize(size: number): void {
    if (this.writer.chunkSize === size || this.socket.destroyed) return;
    this.socket.write(this.writer.setChunkSize(size));
  }

  /** Unparsed input (reader remainder + socket buffer); stops set-up reading. */
  detach(): Buffer {
    const rest = this.input.detach();
    const rem = this.reader.remainder();
    return rem.length === 0 ? rest : rest.length === 0 ? rem : Buffer.concat([rem, rest]);
  }
}
