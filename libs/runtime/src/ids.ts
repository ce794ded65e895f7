import { randomBytes } from 'node:crypto';

/** A short context id like upstream's: 7 lowercase hex characters. */
export function newCid(): string {
  return randomBytes(4).toString('hex').slice(0, 7);
}
