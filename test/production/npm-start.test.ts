import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, onTestFinished, test } from 'vitest';
import { startServerProcess } from '../support/process.js';
import { eventually } from '../support/wait.js';

// The README's first command, as a supervisor (systemd, a container runtime, a terminal's Ctrl-C) runs and
// stops it: the signal goes to npm, and must reach the server and, through it, the embedded PostgreSQL.
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-npm-start-'));
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

test.each(['SIGTERM', 'SIGINT'] as const)('%s to `npm start` stops the server and its embedded PostgreSQL, leaving nothing running', async (signal) => {
  const npm = await startServerProcess({ HOME: process.env.HOME, OVATION_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' }, ['npm', 'start', '--silent']);
  expect(npm.url, npm.stderr()).toBeDefined();
  const serverPid = npm.log.find((line) => line.msg.startsWith('Ovation is serving'))!.pid!;
  const postgresPid = Number((await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  // Should the stop fail to reach them, they must not outlive the test either.
  onTestFinished(() => [serverPid, postgresPid].filter(isRunning).forEach((pid) => process.kill(pid, 'SIGKILL')));
  expect(isRunning(serverPid) && isRunning(postgresPid)).toBe(true);

  npm.child.kill(signal);
  await npm.exited;
  await eventually(async () => (isRunning(serverPid) || isRunning(postgresPid) ? undefined : true), 'the server and PostgreSQL to stop', 15_000);
  // npm's exit can come before its output has all been read (the child's 'exit' precedes its pipes' end).
  await eventually(async () => (npm.log.some((line) => line.msg === 'stopped cleanly') ? true : undefined), 'the server to log that it stopped cleanly');
});
