export { subjects, SUBJECT_PREFIX, REGISTRY_QUEUE, type RequestSubject, type EventSubject } from './subjects.ts';
export * from './messages.ts';
export { RegistryUnavailableError, RegistryTimeoutError, RemoteError, BadMessageError, REGISTRY_UNAVAILABLE, REGISTRY_TIMEOUT, BAD_MESSAGE } from './errors.ts';
export type { BusTransport, Headers, RequestHandler, EventHandler, Subscription } from './transport.ts';
export { InprocTransport } from './inproc-transport.ts';
export { NatsTransport, type NatsConnectOptions } from './nats-transport.ts';
export { BusRegistryClient, type RegistryClient } from './registry-client.ts';
export { okEnvelope, errorEnvelope, openEnvelope } from './envelope.ts';
export type { EdgeDeps } from './edge-deps.ts';
