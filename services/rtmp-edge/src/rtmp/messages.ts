import { decodeAmf0All, encodeAmf0, EcmaArray, type Amf0Object, type Amf0Value } from './amf0.ts';
import { CommandError } from './errors.ts';
import { MSG, type RtmpMessage } from './message-types.ts';

/** Chunk stream ids for messages the proxy creates (spec 5.2). */
export const CSID_CONTROL = 2;
export const CSID_COMMAND = 3;

/** A decoded command (types 20 and 17): name, transaction id, command object, arguments. */
export interface Command {
  name: string;
  tid: number;
  object: Amf0Value;
  args: Amf0Value[];
}

export function isCommand(msg: RtmpMessage): boolean {
  return msg.type === MSG.commandAmf0 || msg.type === MSG.commandAmf3;
}

/** Decodes a command message; AMF3 commands (17) carry one leading format byte, then AMF0. */
export function decodeCommand(msg: RtmpMessage): Command {
  const values = decodeAmf0All(msg.payload, msg.type === MSG.commandAmf3 ? 1 : 0);
  const [name, tid, object, ...args] = values;
  if (typeof name !== 'string') throw new CommandError('command name is not a string');
  // Lenient like SRS: a missing transaction id is 0.
  if (tid !== undefined && typeof tid !== 'number') throw new CommandError(`command ${name}: transaction id is not a number`);
  return { name, tid: tid ?? 0, object: object ?? null, args };
}

export function commandMessage(name: string, tid: number, object: Amf0Value, args: Amf0Value[] = [], streamId = 0, csid = CSID_COMMAND): RtmpMessage {
  return { csid, timestamp: 0, type: MSG.commandAmf0, streamId, payload: encodeAmf0(name, tid, object, ...args) };
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function windowAckSizeMessage(size: number): RtmpMessage {
  return { csid: CSID_CONTROL, timestamp: 0, type: MSG.windowAckSize, streamId: 0, payload: u32(size) };
}

export function setPeerBandwidthMessage(size: number, limitType = 2): RtmpMessage {
  return { csid: CSID_CONTROL, timestamp: 0, type: MSG.setPeerBandwidth, streamId: 0, payload: Buffer.concat([u32(size), Buffer.from([limitType])]) };
}

/** User control event with a 4-byte argument (Stream Begin = 0, Stream EOF = 1, …). */
export function userControlMessage(event: number, value: number): RtmpMessage {
  const payload = Buffer.allocUnsafe(6);
  payload.writeUInt16BE(event);
  payload.writeUInt32BE(value >>> 0, 2);
  return { csid: CSID_CONTROL, timestamp: 0, type: MSG.userControl, streamId: 0, payload };
}

/** Identity the proxy answers `connect` with, as the Go proxy does (spec 5.4). */
export function connectResultMessage(tid: number, cid: string): RtmpMessage {
  return commandMessage('_result', tid, { fmsVer: 'FMS/3,5,3,888', capabilities: 127, mode: 1 }, [
    {
      level: 'status',
      code: 'NetConnection.Connect.Success',
      description: 'Connection succeeded',
      objectEncoding: 0,
      data: new EcmaArray({ version: '3,5,3,888', srs_version: '1.5.0', srs_id: cid }),
    },
  ]);
}

export function connectRejectedMessage(tid: number, reason: string): RtmpMessage {
  return commandMessage('_error', tid, null, [{ level: 'error', code: 'NetConnection.Connect.Rejected', description: reason }]);
}

export function resultMessage(tid: number, value: Amf0Value, streamId = 0): RtmpMessage {
  return commandMessage('_result', tid, null, [value], streamId);
}

export function onStatusMessage(streamId: number, info: Amf0Object, name = 'onStatus'): RtmpMessage {
  return commandMessage(name, 0, null, [info], streamId);
}

/** Common status infos sent to clients. */
export const STATUS = {
  publishStart: { level: 'status', code: 'NetStream.Publish.Start', description: 'Started publishing stream.', clientid: 'ASAICiss' },
  playReset: { level: 'status', code: 'NetStream.Play.Reset', description: 'Playing and resetting stream.', details: 'stream', clientid: 'ASAICiss' },
  playStart: { level: 'status', code: 'NetStream.Play.Start', description: 'Started playing stream.', details: 'stream', clientid: 'ASAICiss' },
} as const;

export function statusInfo(cmd: Command): Amf0Object | undefined {
  const info = cmd.args[0];
  return info !== null && typeof info === 'object' && !Array.isArray(info) && !(info instanceof Date) && !(info instanceof EcmaArray) ? info : undefined;
}

export function statusCode(cmd: Command): string | undefined {
  const code = statusInfo(cmd)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A message with a 4-byte big-endian value (chunk size, window size, ack). */
export function readU32(msg: RtmpMessage): number {
  if (msg.payload.length < 4) throw new CommandError(`message type ${msg.type} shorter than 4 bytes`);
  return msg.payload.readUInt32BE(0);
}
