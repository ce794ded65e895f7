/** What one process runs. `standalone` hosts the registry and every edge. */
export const ROLES = ['standalone', 'registry', 'rtmp-edge', 'http-edge', 'rtc-edge', 'srt-edge'] as const;
export type Role = (typeof ROLES)[number];

export const EDGE_ROLES = ['rtmp-edge', 'http-edge', 'rtc-edge', 'srt-edge'] as const;
export type EdgeRole = (typeof EDGE_ROLES)[number];

export function runsRegistry(role: Role): boolean {
  return role === 'standalone' || role === 'registry';
}

export function edgesOf(role: Role): EdgeRole[] {
  if (role === 'standalone') return [...EDGE_ROLES];
  return (EDGE_ROLES as readonly string[]).includes(role) ? [role as EdgeRole] : [];
}
