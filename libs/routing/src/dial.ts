import { connect, type Socket } from 'node:net';
import { formatHostPort, type Endpoint } from '@srs-proxy/balancer';
import { OriginConnectTimeoutError, OriginUnreachableError } from './errors.ts';

/**
 * Opens TCP to an origin endpoint. No answer within `timeoutMs` is OriginConnectTimeoutError, a
 * refusal (or any socket error before connecting) OriginUnreachableError: both mean "down" to
 * the router. The socket comes back with Nagle off, as every relay wants it.
 */
export function dialTcp(ep: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const where = formatHostPort(ep.host, ep.port);
    const socket = connect({ host: ep.host, port: ep.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new OriginConnectTimeoutError(`connect to ${where} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new OriginUnreachableError(`connect to ${where}: ${err.message}`, err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
