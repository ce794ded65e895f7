import { createHmac, randomBytes } from 'node:crypto';

/**
 * SYN cookies for the induction phase, as libsrt's listener bakes them: a value derived from the
 * caller's address and a time bucket, so the listener keeps no state for inductions and a
 * conclusion from an address that never received our induction answer (spoofed) is refused.
 * HMAC-SHA256 over `address|port|bucket` with a secret (random per process unless shared by
 * every replica behind one UDP load balancer).
 */

/**
 * libsrt bakes cookies per minute and also accepts the previous minute's; a caller's connect
 * timeout (3 s by default) is far shorter, so one minute buckets never reject a real caller.
 */
export const COOKIE_BUCKET_MS = 60_000;

export class SynCookies {
  private readonly secret: Buffer;

  constructor(
    secret: string | Buffer | undefined,
    private readonly now: () => number = Date.now,
    private readonly bucketMs = COOKIE_BUCKET_MS,
  ) {
    this.secret = secret === undefined || secret.length === 0 ? randomBytes(32) : Buffer.from(secret);
  }

  private bake(address: string, port: number, bucket: number): number {
    const v = createHmac('sha256', this.secret).update(`${address}|${port}|${bucket}`).digest().readUInt32BE(0);
    // 0 means "no cookie yet" on the wire (an induction), so it can never be a valid cookie.
    return v === 0 ? 1 : v;
  }

  /** The cookie to hand a caller at `address:port` now. */
  make(address: string, port: number): number {
    return this.bake(address, port, Math.floor(this.now() / this.bucketMs));
  }

  /** True when `cookie` was made for `address:port` in this bucket or the previous one. */
  verify(address: string, port: number, cookie: number): boolean {
    if (cookie === 0) return false;
    const bucket = Math.floor(this.now() / this.bucketMs);
    return cookie === this.bake(address, port, bucket) || cookie === this.bake(address, port, bucket - 1);
  }
}
