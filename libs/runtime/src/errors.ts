/**
 * Base error with a stable machine-readable `code`. Callers branch on `code`, never on the
 * message text. `status` is the HTTP status to use when the error reaches an HTTP client.
 */
export class ProxyError extends Error {
  readonly code: string;
  readonly status: number | undefined;

  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
  }
}

/** A configuration value is missing or invalid; the message names the variable. */
export class ConfigError extends ProxyError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('SRSP_ERR_CONFIG', `${variable}: ${message}`);
    this.variable = variable;
  }
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
