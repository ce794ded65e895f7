import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/** A TCP port that was free a moment ago (listen on 0, read, close). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A UDP port that was free a moment ago. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** A port free for both TCP and UDP (SRS-style origins bind the same number for both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freeTcpPort();
    try {
      await new Promise<void>((resolve, reject) => {
        const s = createSocket('udp4');
        s.once('error', reject);
        s.bind(p, '127.0.0.1', () => s.close(() => resolve()));
      });
      return p;
    } catch {
      /* taken for UDP; try another */
    }
  }
  throw new Error('no free port');
}
