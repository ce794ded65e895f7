import { ROLES, type Role } from './roles.ts';

/** Exit code for a command line the proxy does not understand (the sysexits/BSD convention). */
export const EXIT_USAGE = 2;

export type Command = { kind: 'run'; role: Role } | { kind: 'help' } | { kind: 'version' } | { kind: 'error'; message: string };

/** Parses `srs-proxy [role] | --help | --version`; pure, so it is tested without a process. */
export function parseCommandLine(args: readonly string[]): Command {
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help' };
  if (args.includes('--version') || args.includes('-v')) return { kind: 'version' };
  if (args.length > 1) return { kind: 'error', message: `expected at most one role, got ${args.length} arguments` };
  const role = args[0] ?? 'standalone';
  if (!(ROLES as readonly string[]).includes(role)) return { kind: 'error', message: `unknown role "${role.slice(0, 64)}"` };
  return { kind: 'run', role: role as Role };
}

const ROLE_HELP: Record<Role, string> = {
  standalone: 'registry and every edge in one process, in-memory state (default)',
  registry: 'System API and the balancer; answers edges over NATS',
  'rtmp-edge': 'RTMP front end',
  'http-edge': 'HTTP-FLV/TS, HLS and DASH front end',
  'rtc-edge': 'WebRTC WHIP/WHEP signalling and UDP relay',
  'srt-edge': 'SRT front end',
};

export function usage(): string {
  return [
    'usage: srs-proxy [role]',
    '       srs-proxy --help | --version',
    '',
    'roles:',
    ...ROLES.map((r) => `  ${r.padEnd(12)} ${ROLE_HELP[r]}`),
    '',
    'Configuration comes from PROXY_* environment variables (and a .env file in the working',
    'directory); see the README for the table.',
    '',
  ].join('\n');
}
