/**
 * The version the proxy reports everywhere (`Server` header, `/api/v1/versions`, logs,
 * `--version`). It stays on the Go proxy's line because SRS tooling and clients compare it.
 */
export const PROXY_VERSION = { major: 1, minor: 5, revision: 0 } as const;
export const PROXY_VERSION_STRING = `${PROXY_VERSION.major}.${PROXY_VERSION.minor}.${PROXY_VERSION.revision}`;
/** `Server` header value of every HTTP listener. */
export const PROXY_SERVER_HEADER = `SRSProxy/${PROXY_VERSION_STRING}`;
