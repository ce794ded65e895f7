/**
 * RFC 7983 (section 7) demultiplexing of the datagrams that share one WebRTC UDP port, by the
 * first byte only. Pure: buffers in, a kind out.
 */
export const PacketKind = {
  /** 0..3: STUN (ICE connectivity checks, consent freshness). */
  STUN: 0,
  /** 16..19: ZRTP. Never used by WebRTC; dropped. */
  ZRTP: 1,
  /** 20..63: DTLS (handshake, alerts, SCTP data channels). */
  DTLS: 2,
  /** 64..79: TURN ChannelData. The proxy is not a TURN server; dropped. */
  TURN_CHANNEL: 3,
  /** 128..191: RTP or RTCP (SRTP/SRTCP once DTLS keyed them). */
  RTP: 4,
  /** Anything else, including an empty datagram: dropped. */
  UNKNOWN: 5,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

export const PACKET_KIND_NAMES: Record<PacketKind, string> = {
  [PacketKind.STUN]: 'stun',
  [PacketKind.ZRTP]: 'zrtp',
  [PacketKind.DTLS]: 'dtls',
  [PacketKind.TURN_CHANNEL]: 'turn-channel',
  [PacketKind.RTP]: 'rtp',
  [PacketKind.UNKNOWN]: 'unknown',
};

export function classifyDatagram(buf: Uint8Array): PacketKind {
  if (buf.length === 0) return PacketKind.UNKNOWN;
  const b = buf[0]!;
  if (b <= 3) return PacketKind.STUN;
  if (b >= 20 && b <= 63) return PacketKind.DTLS;
  if (b >= 128 && b <= 191) return PacketKind.RTP;
  if (b >= 16 && b <= 19) return PacketKind.ZRTP;
  if (b >= 64 && b <= 79) return PacketKind.TURN_CHANNEL;
  return PacketKind.UNKNOWN;
}
