import { Writable } from 'node:stream';

export type LogLine = { level: number; msg: string; [k: string]: unknown };

/** pino output captured in memory as parsed JSON lines, for tests that assert on logs. */
export class LogCapture extends Writable {
  readonly lines: LogLine[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l) this.lines.push(JSON.parse(l) as LogLine);
    cb();
  }
  matching(re: RegExp): LogLine[] {
    return this.lines.filter((l) => re.test(l.msg));
  }
}
