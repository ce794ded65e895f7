import type { Server as NetServer } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import type { ListenAddress } from './listen.ts';

/** Binds a TCP server (net or http) and resolves with the bound port; bind errors reject. */
export function listenTcp(server: NetServer, addr: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port: addr.port, host: addr.host }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : addr.port);
    });
  });
}

/** Binds a UDP socket and resolves with the bound port; bind errors reject. */
export function bindUdp(socket: UdpSocket, addr: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ port: addr.port, address: addr.host }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}
