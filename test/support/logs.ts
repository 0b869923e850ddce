import { pino } from 'pino';
import type { Logger } from '../../src/logger.js';

export type LogLine = { level: number; msg?: string } & Record<string, unknown>;

/** pino's level number for `error`: a line at or above it is an error the operators see. */
export const ERROR_LEVEL = 50;

/** A logger that keeps every line it writes, for tests about what the server logs. */
export function recordingLogger(level = 'info'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}
