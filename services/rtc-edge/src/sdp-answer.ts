import { isIP } from 'node:net';
import { SdpError } from './errors.ts';

/**
 * SDP handling for the signalling proxy (spec 7.1 steps 8-10), as pure functions: read the ICE
 * credentials of an offer or answer, and rewrite an origin's answer so that every candidate
 * points at this edge's UDP port (and, when configured, its public IP). The proxy never
 * terminates WebRTC, so nothing else in the SDP changes.
 */

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

export interface AnswerRewriteOptions {
  /** The UDP port clients must send media to (the bound port of PROXY_WEBRTC_SERVER). */
  port: number;
  /** PROXY_RTC_CANDIDATE; undefined keeps each candidate's address (upstream behaviour). */
  ip: string | undefined;
}

export interface RewrittenAnswer {
  sdp: string;
  ice: IceCredentials;
  /** UDP ports the origin advertised, in order of appearance, without duplicates. */
  originPorts: number[];
  /** UDP candidates left in the rewritten answer. */
  candidates: number;
  /** Candidate lines removed, by reason. */
  dropped: { tcp: number; other: number; duplicate: number; malformed: number };
}

/** ICE ufrag/pwd limits of RFC 8839 (ice-char, 4..256 / 22..256); we accept any visible ASCII but ':'. */
const MAX_ICE_FIELD = 256;
const ICE_FIELD = /^[\x21-\x39\x3b-\x7e]+$/;

function firstAttribute(lines: readonly string[], name: string): string | undefined {
  const prefix = `a=${name}:`;
  for (const line of lines) {
    if (line.startsWith(prefix)) return line.slice(prefix.length).trim();
  }
  return undefined;
}

function splitLines(sdp: string): { lines: string[]; eol: string; trailing: boolean } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const trailing = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailing) lines.pop();
  return { lines, eol, trailing };
}

/**
 * The first `a=ice-ufrag` / `a=ice-pwd` of an SDP (session or media level; bundled sections share
 * them). Throws SdpError when either is missing or malformed.
 */
export function extractIce(sdp: string, what = 'sdp'): IceCredentials {
  const { lines } = splitLines(sdp);
  return iceOf(lines, what);
}

function iceOf(lines: readonly string[], what: string): IceCredentials {
  const ufrag = firstAttribute(lines, 'ice-ufrag');
  const pwd = firstAttribute(lines, 'ice-pwd');
  if (!ufrag) throw new SdpError(`no ice-ufrag in ${what}`);
  if (!pwd) throw new SdpError(`no ice-pwd in ${what}`);
  if (ufrag.length > MAX_ICE_FIELD || !ICE_FIELD.test(ufrag)) throw new SdpError(`invalid ice-ufrag in ${what}`);
  if (pwd.length > MAX_ICE_FIELD || !ICE_FIELD.test(pwd)) throw new SdpError(`invalid ice-pwd in ${what}`);
  return { ufrag, pwd };
}

interface Candidate {
  fields: string[];
  transport: string;
  component: string;
  address: string;
  port: number;
}

/** `a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...` */
function parseCandidate(line: string): Candidate | undefined {
  const fields = line.slice('a=candidate:'.length).trim().split(/\s+/);
  if (fields.length < 8 || fields[6] !== 'typ') return undefined;
  const portText = fields[5]!;
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { fields, transport: fields[2]!.toLowerCase(), component: fields[1]!, address: fields[4]!, port };
}

function ipVersion(ip: string): 'IP4' | 'IP6' {
  return isIP(ip) === 6 ? 'IP6' : 'IP4';
}

/**
 * Rewrites an origin's answer: every UDP candidate gets this edge's port (and the configured IP);
 * TCP and other non-UDP candidates are dropped, since the edge relays UDP only (the Go proxy
 * wrote its UDP port into `tcp` candidates); RTCP component 2 candidates are dropped (one port
 * can only carry rtcp-mux); candidates that became identical are de-duplicated per media
 * section. `m=`, `c=` and `a=rtcp:` lines that named an advertised address follow along.
 * Throws SdpError when the answer has no ICE credentials or no UDP candidate.
 */
export function rewriteAnswer(sdp: string, opts: AnswerRewriteOptions): RewrittenAnswer {
  const { lines, eol, trailing } = splitLines(sdp);
  const ice = iceOf(lines, 'answer');

  const originPorts: number[] = [];
  const originAddresses = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith('a=candidate:')) continue;
    const c = parseCandidate(line);
    if (!c || c.transport !== 'udp' || c.component !== '1') continue;
    if (!originPorts.includes(c.port)) originPorts.push(c.port);
    originAddresses.add(c.address);
  }
  if (originPorts.length === 0) throw new SdpError('no UDP candidate in answer');

  const port = String(opts.port);
  const mapAddress = (addr: string): string => (opts.ip !== undefined && originAddresses.has(addr) ? opts.ip : addr);
  const dropped = { tcp: 0, other: 0, duplicate: 0, malformed: 0 };
  let candidates = 0;
  let seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      seen = new Set();
      const parts = line.split(' ');
      if (parts.length >= 2 && parts[1] !== '0' && originPorts.includes(Number(parts[1]))) parts[1] = port;
      out.push(parts.join(' '));
    } else if (line.startsWith('c=')) {
      const parts = line.split(' ');
      if (parts.length === 3 && opts.ip !== undefined && originAddresses.has(parts[2]!)) {
        out.push(`c=IN ${ipVersion(opts.ip)} ${opts.ip}`);
      } else {
        out.push(line);
      }
    } else if (line.startsWith('a=rtcp:')) {
      // a=rtcp:<port> [IN IP4 <address>]
      const parts = line.slice('a=rtcp:'.length).split(' ');
      if (originPorts.includes(Number(parts[0]))) parts[0] = port;
      if (parts.length === 3 && opts.ip !== undefined && originAddresses.has(parts[2]!)) {
        parts[1] = ipVersion(opts.ip);
        parts[2] = opts.ip;
      }
      out.push(`a=rtcp:${parts.join(' ')}`);
    } else if (line.startsWith('a=candidate:')) {
      const c = parseCandidate(line);
      if (!c) {
        dropped.malformed++;
        continue;
      }
      if (c.transport === 'tcp') {
        dropped.tcp++;
        continue;
      }
      if (c.transport !== 'udp' || c.component !== '1') {
        dropped.other++;
        continue;
      }
      const address = mapAddress(c.address);
      const key = `${address} ${port}`;
      if (seen.has(key)) {
        dropped.duplicate++;
        continue;
      }
      seen.add(key);
      c.fields[4] = address;
      c.fields[5] = port;
      out.push(`a=candidate:${c.fields.join(' ')}`);
      candidates++;
    } else {
      out.push(line);
    }
  }
  return { sdp: out.join(eol) + (trailing ? eol : ''), ice, originPorts, candidates, dropped };
}
