import { commonSchema, type Schema } from '@srs-proxy/runtime';
import { registrySchema } from '@srs-proxy/registry';
import { rtmpEdgeSchema } from '@srs-proxy/rtmp-edge';
import { httpEdgeSchema } from '@srs-proxy/http-edge';
import { rtcEdgeSchema } from '@srs-proxy/rtc-edge';
import { srtEdgeSchema } from '@srs-proxy/srt-edge';

/** Every configuration schema, by owner. The README table and deploy/ checks read this. */
export const schemasByService: Record<string, Schema> = {
  common: commonSchema,
  registry: registrySchema,
  'rtmp-edge': rtmpEdgeSchema,
  'http-edge': httpEdgeSchema,
  'rtc-edge': rtcEdgeSchema,
  'srt-edge': srtEdgeSchema,
};

/** Every variable name any service reads. */
export function allVariables(): string[] {
  return Object.values(schemasByService).flatMap((s) => Object.values(s).map((f) => f.env));
}
