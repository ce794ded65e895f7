import { randomBytes } from 'node:crypto';

/** Test helper: encodes a STUN message (RFC 8489 framing, no integrity) from attributes. */
export function stunMessage(opts: { type?: number; txid?: Buffer; username?: string; attrs?: Array<{ type: number; value: Buffer }> } = {}): Buffer {
  const attrs = [...(opts.attrs ?? [])];
  if (opts.username !== undefined) attrs.unshift({ type: 0x0006, value: Buffer.from(opts.username, 'utf8') });
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(a.type, 0);
    h.writeUInt16BE(a.value.length, 2);
    const pad = Buffer.alloc((4 - (a.value.length % 4)) % 4);
    parts.push(h, a.value, pad);
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(opts.type ?? 0x0001, 0);
  header.writeUInt16BE(body.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  (opts.txid ?? randomBytes(12)).copy(header, 8);
  return Buffer.concat([header, body]);
}

/** RFC 5769 section 2.1: the sample ICE Binding request (USERNAME "evtj:h6vY"). */
export const RFC5769_REQUEST = Buffer.from(
  '000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74' +
    '002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020' +
    '000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2802800' +
    '04e57a3bcf',
  'hex',
);

/** A Binding request captured from libjuice (node-datachannel 0.33), USERNAME "srvU:pCjw". */
export const LIBJUICE_REQUEST = Buffer.from(
  '000100502112a442f7e992655fb36ece847ac618002400046e0fffff802a00080ab974347c43e829802200086c69626a7569636500060009737276553a70436a7700000000080014bccf49bca53dbe04d9f66fb09a42436037e2c67e802800045b7f210e',
  'hex',
);
