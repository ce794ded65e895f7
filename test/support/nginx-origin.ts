import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.ts';
import { tcpOpen } from './servers.ts';
import { requireBinary, spawnProcess, waitFor, type Spawned } from './process.ts';
import { newOriginIdentity, type HeartbeatBody } from './heartbeat.ts';

export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface NginxOriginOptions {
  /** nginx-rtmp `on_publish` callback URL (receives the publish query, e.g. `secret=abc`). */
  onPublishUrl?: string;
  /** nginx-rtmp `on_play` callback URL. */
  onPlayUrl?: string;
  /** HLS fragment length in seconds (short keeps tests fast). */
  hlsFragmentSec?: number;
}

export interface NginxOrigin {
  rtmpPort: number;
  httpPort: number;
  dir: string;
  proc: Spawned;
  /** An SRS-style heartbeat body that registers this origin with the proxy. */
  heartbeatBody(): HeartbeatBody;
  stop(): Promise<void>;
}

/**
 * A real RTMP origin: nginx + libnginx-mod-rtmp (`daemon off`, generated config, free ports).
 * Application `live` serves RTMP publish/play, HLS at `/live/<stream>.m3u8` and DASH at
 * `/live/<stream>.mpd` on its HTTP port — the same paths SRS uses, so the proxy's stream keys match.
 */
export async function startNginxOrigin(opts: NginxOriginOptions = {}): Promise<NginxOrigin> {
  const nginx = requireBinary('nginx');
  const rtmpPort = await freeTcpPort();
  const httpPort = await freeTcpPort();
  const dir = mkdtempSync(join(tmpdir(), 'srsp-nginx-'));
  mkdirSync(join(dir, 'live'));
  mkdirSync(join(dir, 'dash', 'live'), { recursive: true });
  mkdirSync(join(dir, 'tmp'));
  const frag = opts.hlsFragmentSec ?? 1;
  const conf = `
load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record off;
      ${opts.onPublishUrl ? `on_publish ${opts.onPublishUrl};` : ''}
      ${opts.onPlayUrl ? `on_play ${opts.onPlayUrl};` : ''}
      hls on;
      hls_path ${dir}/live;
      hls_fragment ${frag}s;
      hls_playlist_length ${frag * 6}s;
      dash on;
      dash_path ${dir}/dash/live;
      dash_fragment ${frag * 2}s;
      dash_playlist_length ${frag * 12}s;
    }
  }
}
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
    application/dash+xml mpd;
    video/mp4 m4v;
    audio/mp4 m4a;
  }
  server {
    listen 127.0.0.1:${httpPort};
    root ${dir};
    location / { add_header Cache-Control no-cache; }
    # nginx-rtmp needs distinct HLS and DASH directories; both are served under /live/.
    location ~ \\.(mpd|m4v|m4a)$ { root ${dir}/dash; add_header Cache-Control no-cache; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = spawnProcess(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  try {
    await waitFor(
      async () => {
        return (await tcpOpen(rtmpPort)) && (await tcpOpen(httpPort));
      },
      { timeoutMs: 10_000, what: 'nginx origin', procs: [proc] },
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  const identity = newOriginIdentity('nginx');
  return {
    rtmpPort,
    httpPort,
    dir,
    proc,
    heartbeatBody: () => ({
      device_id: 'nginx-rtmp',
      ip: '127.0.0.1',
      ...identity,
      rtmp: [String(rtmpPort)],
      http: [String(httpPort)],
    }),
    async stop() {
      await proc.stop('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
