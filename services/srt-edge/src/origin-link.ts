import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { OriginConnectTimeoutError, OriginUnreachableError } from '@srs-proxy/routing';
import { HANDSHAKE_SIZE, HandshakeType, isRejection, parseHandshake, withCookie } from './srt/handshake.ts';
import { isHandshakePacket } from './srt/packet.ts';

export interface OriginHandshakeOptions {
  /** Resend our induction / conclusion this often until the origin answers. */
  retryMs: number;
  /** Give up on this origin after this long (per attempt). */
  timeoutMs: number;
}

/** What the origin answered to the replayed conclusion. */
export interface OriginAnswer {
  /** The raw conclusion response (or rejection), exactly as the origin sent it. */
  raw: Buffer;
  rejected: boolean;
  /** The origin's socket id (the id the caller addresses from now on). */
  socketId: number;
  type: number;
}

type MessageHandler = (msg: Buffer) => void;
type ErrorHandler = (err: Error) => void;

const ignore: MessageHandler = () => {};

/**
 * One session's UDP socket to its origin's SRT port. It replays the caller's handshake (an
 * induction synthesised from the conclusion, then the conclusion itself with the origin's cookie),
 * resending each until answered, within a deadline; then it relays. Owning one socket per session
 * means every datagram the origin sends belongs to this session: no lookup on the way back.
 */
export class SrtOriginLink {
  readonly socket: Socket;
  private closed = false;
  private onMessage: MessageHandler = ignore;
  private onError: ErrorHandler = () => {};
  private abort: ((err: Error) => void) | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    bufferBytes: number,
  ) {
    this.socket = createSocket({
      type: isIP(host) === 6 ? 'udp6' : 'udp4',
      recvBufferSize: bufferBytes,
      sendBufferSize: bufferBytes,
    });
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', (err) => this.onError(err));
  }

  /**
   * Binds an ephemeral port and connects to the origin, resolving a host name if one is given;
   * bounded by `timeoutMs` because a resolver can hang.
   */
  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.onError = () => {};
        this.abort = undefined;
        reject(new OriginUnreachableError(`cannot reach origin ${this.host}:${this.port}: ${err.message}`, err));
      };
      this.onError = fail;
      this.abort = fail;
      this.socket.connect(this.port, this.host, (err?: Error) => {
        if (err) return fail(err);
        clearTimeout(timer);
        this.onError = () => {};
        this.abort = undefined;
        resolve();
      });
    });
  }

  /**
   * Replays the handshake. Resolves with the origin's conclusion response or rejection; rejects
   * with OriginConnectTimeoutError when either step goes unanswered for `timeoutMs` in total (over
   * UDP the handshake is the connect: a silent origin is down for the router), or with
   * OriginUnreachableError when the socket reports an error (ICMP port unreachable).
   */
  handshake(induction: Buffer, conclusion: Buffer, callerSocketId: number, opts: OriginHandshakeOptions): Promise<OriginAnswer> {
    return new Promise<OriginAnswer>((resolve, reject) => {
      let step: 'induction' | 'conclusion' = 'induction';
      let packet = induction;
      const send = () => {
        if (!this.closed) this.socket.send(packet);
      };
      let retry = setInterval(send, opts.retryMs);
      const deadline = setTimeout(
        () => finish(new OriginConnectTimeoutError(`origin ${this.host}:${this.port} did not answer the ${step} within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
      const finish = (err: Error | undefined, answer?: OriginAnswer) => {
        clearInterval(retry);
        clearTimeout(deadline);
        this.onMessage = ignore;
        this.onError = () => {};
        this.abort = undefined;
        if (err) reject(err);
        else resolve(answer!);
      };
      this.abort = (err) => finish(err);
      this.onError = (err) => finish(new OriginUnreachableError(`origin ${this.host}:${this.port}: ${err.message}`, err));
      this.onMessage = (msg) => {
        // Anything that is not a handshake for this caller is stale or foreign: ignore it.
        if (msg.length < HANDSHAKE_SIZE || !isHandshakePacket(msg) || msg.readUInt32BE(12) !== callerSocketId) return;
        const type = msg.readUInt32BE(36);
        if (step === 'induction') {
          if (type !== HandshakeType.INDUCTION) return;
          step = 'conclusion';
          packet = withCookie(conclusion, msg.readUInt32BE(44));
          clearInterval(retry);
          retry = setInterval(send, opts.retryMs);
          send();
          return;
        }
        if (type !== HandshakeType.CONCLUSION && !isRejection(type)) return;
        try {
          // Bounds-check the answer before it is forwarded to the caller.
          const hs = parseHandshake(msg);
          finish(undefined, { raw: msg, rejected: isRejection(type), socketId: hs.socketId, type });
        } catch {
          /* malformed answer: keep waiting, the deadline bounds it */
        }
      };
      send();
    });
  }

  /** Switches to relaying: every datagram from the origin goes to `onMessage`. */
  relay(onMessage: MessageHandler, onError: ErrorHandler): void {
    this.onMessage = onMessage;
    this.onError = onError;
  }

  send(msg: Buffer): void {
    if (!this.closed) this.socket.send(msg);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort?.(new OriginUnreachableError('origin link closed'));
    this.onMessage = ignore;
    this.onError = () => {};
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }
}
