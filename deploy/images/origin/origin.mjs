// The SRS stand-in's single process: writes an nginx-rtmp config, runs nginx (RTMP 1935, HLS and
// FLV on HTTP 8080, /api/v1/versions on 1985) and node-media-server (HTTP-FLV of what nginx pushes
// to it), and registers with the proxy like an SRS heartbeat. SIGTERM stops everything, exit 0.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
const env = process.env;
const dir = '/tmp/origin';
for (const d of ['live', 'tmp', 'nms']) mkdirSync(`${dir}/${d}`, { recursive: true });

const frag = Number(env.ORIGIN_HLS_FRAGMENT ?? 2);
writeFileSync(
  `${dir}/nginx.conf`,
  `
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
rtmp {
  access_log off;
  server {
    listen 1935;
    chunk_size 4096;
    application live {
      live on;
      record off;
      hls on;
      hls_path ${dir}/live;
      hls_fragment ${frag}s;
      hls_playlist_length ${frag * 6}s;
      # node-media-server turns the stream into HTTP-FLV (nginx-rtmp has no FLV over HTTP).
      push rtmp://127.0.0.1:1936/live;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
  }
  server {
    listen 8080;
    root ${dir};
    location / { add_header Cache-Control no-cache; }
    location ~ \\.flv$ {
      proxy_pass http://127.0.0.1:8081;
      proxy_buffering off;
      proxy_http_version 1.1;
    }
  }
  server {
    listen 1985;
    default_type application/json;
    location = /api/v1/versions { return 200 '{"code":0,"server":"srs-standin","data":{"major":7,"minor":0,"revision":0,"version":"7.0.0"}}'; }
    location / { return 404 '{"code":404}'; }
  }
}
`,
);

const children = [];
let stopping = false;
function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`origin: ${cmd} exited (${code ?? signal}); stopping`);
    stop(1);
  });
  children.push(child);
  return child;
}

run('nginx', ['-p', dir, '-c', `${dir}/nginx.conf`, '-e', 'stderr']);

const NodeMediaServer = require('node-media-server');
const nms = new NodeMediaServer({
  bind: '127.0.0.1',
  rtmp: { port: 1936 },
  http: { port: 8081 },
  store: { path: `${dir}/nms/data` },
  record: { auto: false, path: `${dir}/nms/record` },
  webadmin: { enable: false },
  notify: { url: '' },
});
nms.run();

// SRS heartbeat: POST the register body every interval; retry each second until the first success.
const url = env.SRS_HEARTBEAT_URL;
const intervalMs = Number(env.SRS_HEARTBEAT_INTERVAL ?? 9) * 1000;
const body = JSON.stringify({
  device_id: env.SRS_HEARTBEAT_DEVICE_ID ?? hostname(),
  ip: env.SRS_DEVICE_IP || hostname(),
  server: `vid-standin-${randomBytes(3).toString('hex')}`,
  service: randomBytes(4).toString('hex'),
  pid: String(process.pid),
  rtmp: ['1935'],
  http: ['8080'],
  api: ['1985'],
});
let registered = false;
let timer;
async function beat() {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${res.status} ${text}`);
    if (!registered) console.log(`origin: registered at ${url}: ${text}`);
    registered = true;
  } catch (err) {
    console.error(`origin: heartbeat to ${url} failed: ${err.message}`);
    registered = false;
  }
  timer = setTimeout(beat, registered ? intervalMs : 1000);
}
if (env.SRS_HEARTBEAT_ENABLED !== 'off' && url) beat();

function stop(code) {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  for (const c of children) c.kill('SIGQUIT');
  Promise.resolve(nms.stop?.())
    .catch(() => {})
    .finally(() => setTimeout(() => process.exit(code), 200));
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
