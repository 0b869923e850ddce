import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { releaseWhenDone } from './wait.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export type LogLine = { level: number; msg: string; pid?: number; url?: string; err?: { message: string } };

export type ServerProcess = {
  child: ChildProcess;
  /** The GraphQL endpoint it serves; undefined if it did not start. */
  url: string | undefined;
  /** Every JSON log line it wrote so far. */
  log: LogLine[];
  /** What it wrote on stderr so far. */
  stderr: () => string;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
};

/**
 * Runs `command` (by default Ovation's src/main.ts, as `node dist/src/main.js` would run it) in a process
 * of its own with exactly `env` (plus PATH), and waits until it says it is serving or exits. Killed when
 * the test that started it ends (or the file, if started at its top level).
 */
export async function startServerProcess(env: NodeJS.ProcessEnv, command: string[] = [process.execPath, '--import', 'tsx', MAIN]): Promise<ServerProcess> {
  const child = spawn(command[0]!, command.slice(1), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: LogLine[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  releaseWhenDone(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let buffered = '';
  let stderr = '';
  const url = await new Promise<string | undefined>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as LogLine;
        log.push(entry);
        if (entry.msg.startsWith('Ovation is serving')) resolve(entry.url);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    void exited.then(() => resolve(undefined));
  });
  return { child, url, log, stderr: () => stderr, exited };
}
