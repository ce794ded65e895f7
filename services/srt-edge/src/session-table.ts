/**
 * Established sessions by (destination socket id, caller port, caller address): what the relay
 * looks up for every datagram a caller sends. Socket ids are random 32-bit values chosen by the
 * origins, so two origins can hand out the same id; the caller's address disambiguates.
 *
 * Buckets are keyed by the low 30 bits of the id, which is always a V8 small integer, so a lookup
 * never boxes a number; the rare ids sharing those bits chain in the bucket.
 */
export interface Routed {
  readonly callerAddress: string;
  readonly callerPort: number;
}

interface Node<T> {
  socketId: number;
  value: T;
  next: Node<T> | undefined;
}

export class SessionTable<T extends Routed> {
  private readonly buckets = new Map<number, Node<T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(socketId: number, port: number, address: string): T | undefined {
    let n = this.buckets.get(socketId & 0x3fffffff);
    while (n !== undefined) {
      const v = n.value;
      if (n.socketId === socketId && v.callerPort === port && v.callerAddress === address) return v;
      n = n.next;
    }
    return undefined;
  }

  /** False (and nothing stored) when another entry already owns this id for this caller address. */
  add(socketId: number, value: T): boolean {
    if (this.get(socketId, value.callerPort, value.callerAddress) !== undefined) return false;
    const key = socketId & 0x3fffffff;
    this.buckets.set(key, { socketId, value, next: this.buckets.get(key) });
    this.count++;
    return true;
  }

  delete(socketId: number, value: T): boolean {
    const key = socketId & 0x3fffffff;
    let prev: Node<T> | undefined;
    let n = this.buckets.get(key);
    while (n !== undefined) {
      if (n.value === value && n.socketId === socketId) {
        if (prev === undefined) {
          if (n.next === undefined) this.buckets.delete(key);
          else this.buckets.set(key, n.next);
        } else {
          prev.next = n.next;
        }
        this.count--;
        return true;
      }
      prev = n;
      n = n.next;
    }
    return false;
  }

  /** Number of buckets in use (tests check it returns to zero). */
  get bucketCount(): number {
    return this.buckets.size;
  }
}
