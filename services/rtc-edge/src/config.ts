import { f } from '@srs-proxy/runtime';

/** Settings of the rtc-edge service; defaults are the Go proxy's. */
export const rtcEdgeSchema = {
  listen: f.listen('PROXY_WEBRTC_SERVER', '18000', 'WebRTC media listener (UDP).'),
} as const;
