// The A/B benches (bench:gifts-ab, bench:fanout-ab) compare two built checkouts whatever their schemas,
// seeds, tokens and GraphQL documents: each build prepares its own database through its own code,
// bench/ab-build.ts run with its own tsx in its own checkout, and answers, over IPC, everything the
// harness needs that depends on the build. This file is the contract (docs/benchmarks.md) and the
// harness's side of it; the harness itself knows no table, document or token format.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { printVerdict, startServerProcess, type ServerPlan } from './support.js';

/** The contract's version: a build's entry point says which it speaks when it starts. */
export const CONTRACT = 1;

/** Where a checkout keeps its side of the contract. */
const ENTRY_POINT = path.join('bench', 'ab-build.ts');

/** What the harness asks a build; each question is answered once, under its `id`. */
export type Question = { id: number } & (
  | {
      /** Apply the build's migrations (or those in `migrations`) to `databaseUrl`, then fill it. */
      command: 'prepare';
      databaseUrl: string;
      migrations?: string;
      /** Funded viewers to send the measured gifts, and top gifters to send the room's opening gifts. */
      senders: number;
      topGifters: number;
      /** An active matching campaign on the room's creator (bench:gifts-ab, MATCHING); a build older than brands ignores it. */
      matching?: boolean;
    }
  | { command: 'room' }
  | { command: 'commits'; after: number }
  | { command: 'audit' }
);

export type Answer = { id: number; result: unknown } | { id: number; error: string };

/** The answer to 'prepare': how to run the build and speak to it. */
export type Prepared = {
  server: ServerPlan;
  gifts: GiftSending;
  /** Sent once each, in order, before any measuring: they settle the room's top gifters (fan-out). */
  topGifts: GiftRequest[];
  /** What a fan-out viewer subscribes to (see ViewerSubscription). */
  viewers: ViewerSubscription;
};

/** sendGift over HTTP: one POST of `query` per gift. */
export type GiftSending = {
  query: string;
  /** Sent instead of `query` when set: its trusted-document id (bench:gifts with TRUSTED=1). */
  documentId?: string;
  /** Every request's variables; each "{{request}}" in them is replaced by a name unique to the request. */
  variables: unknown;
  /** Each sender's request headers (its credentials); requests take the senders in turn. */
  senders: Record<string, string>[];
  /** A text in the response body exactly when the gift went through; otherwise the body's first "code" says why not. */
  sent: string;
};

export type GiftRequest = { headers: Record<string, string>; variables: unknown };

/**
 * A graphql-transport-ws subscription to the room's events. Its data has one field, the event; a gift
 * event selects `sequence` (the room's) and `sentAt` (an ISO time), in that order and named so (aliased
 * if the schema spells them otherwise), and no other event selects both.
 */
export type ViewerSubscription = { query: string; variables: Record<string, unknown> };

/** The answer to 'room': viewers as the build's servers count them, and the room's last sequence. */
export type RoomStatus = { viewers: number; lastSequence: number };

/** The answer to 'commits': per gift after a sequence, how long after its sentAt its transaction committed. */
export type Commit = [sequence: number, msAfterSentAt: number];

/** The answer to 'audit': the build's ledger audit, one line per violation. */
export type Audit = { violations: string[] };

export type Build = {
  name: string;
  checkout: string;
  prepared: Prepared;
  /** The build's server. */
  pid: number;
  /** The build's own database on the cluster. */
  databaseUrl: string;
  ask<T>(question: DistributiveOmit<Question, 'id'>): Promise<T>;
  stop(): Promise<void>;
};

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const HERE = path.resolve(import.meta.dirname, '..');

/**
 * `checkout` (already built) as build `name`: a database of its own on the cluster at `clusterUrl`, prepared
 * by the checkout's own entry point, and its server over it. A checkout without one (older than the
 * contract) is prepared by this checkout's entry point over its migrations, which is right only when the
 * two agree on everything else.
 */
export async function openBuild(name: string, checkout: string, clusterUrl: string, sizes: { senders: number; topGifters: number; matching?: boolean }): Promise<Build> {
  const database = `ab_${name.toLowerCase()}`;
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`).finally(() => admin.end());
  const databaseUrl = new URL(clusterUrl);
  databaseUrl.pathname = `/${database}`;

  const own = fs.existsSync(path.join(checkout, ENTRY_POINT));
  if (!own) {
    console.warn(
      `WARNING: ${checkout} has no ${ENTRY_POINT}: its database is prepared by this checkout's (${HERE}) over ${checkout}'s migrations, ` +
        `and driven with this checkout's tokens and GraphQL documents. That is valid only if the two builds agree on all of them. ` +
        `Its ledger is audited by its own npm run ledger:audit.`,
    );
  }
  const side = await startEntryPoint(own ? checkout : HERE);
  try {
    const prepared = await side.ask<Prepared>({
      command: 'prepare',
      databaseUrl: databaseUrl.href,
      ...(own ? {} : { migrations: path.join(checkout, 'prisma', 'migrations') }),
      ...sizes,
    });
    const server = await startServerProcess(prepared.server, { checkout });
    return {
      name,
      checkout,
      prepared,
      pid: server.pid,
      databaseUrl: databaseUrl.href,
      ask: own ? side.ask : auditedByItsOwnScript(side.ask, checkout, databaseUrl.href),
      async stop() {
        await server.stop();
        await side.stop();
      },
    };
  } catch (error) {
    await side.stop();
    throw error;
  }
}

/**
 * For a checkout older than the contract: its audit is its own `npm run ledger:audit` (scripts/ledger-audit.ts),
 * which knows its tables, where this checkout's audit would look for tables it may not have.
 */
function auditedByItsOwnScript(ask: Build['ask'], checkout: string, databaseUrl: string): Build['ask'] {
  return async <T>(question: DistributiveOmit<Question, 'id'>) => {
    if (question.command !== 'audit') return ask<T>(question);
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'scripts/ledger-audit.ts'], { cwd: checkout, env: { ...process.env, DATABASE_URL: databaseUrl } }, (error, out, err) =>
        resolve({ code: error ? Number(error.code ?? 2) : 0, stdout: out, stderr: err }),
      ),
    );
    if (code !== 0 && code !== 1) throw new Error(`${checkout}'s ledger audit could not run (exit ${code}): ${stderr.trim()}`);
    const found = stdout.split('\n').filter((line) => line.startsWith('VIOLATION '));
    return { violations: code === 0 ? [] : found.length > 0 ? found : [stdout.trim()] } as T;
  };
}

/** A checkout's entry point, started with its own tsx in its own directory. */
async function startEntryPoint(checkout: string) {
  const child = fork(path.join(checkout, ENTRY_POINT), [], { cwd: checkout, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  let asked = 0;
  child.on('message', (answer: Answer) => {
    const waiting = pending.get(answer.id);
    pending.delete(answer.id);
    if ('error' in answer) waiting?.reject(new Error(`${checkout}'s ${ENTRY_POINT}: ${answer.error}`));
    else waiting?.resolve(answer.result);
  });
  void exited.then((code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`${checkout}'s ${ENTRY_POINT} exited (${code})`));
    pending.clear();
  });
  const hello = await firstMessage(child, exited);
  if (hello.contract !== CONTRACT) {
    child.kill();
    throw new Error(`${checkout}'s ${ENTRY_POINT} speaks contract ${hello.contract}; this harness speaks ${CONTRACT}`);
  }
  return {
    ask<T>(question: DistributiveOmit<Question, 'id'>): Promise<T> {
      const id = ++asked;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
        child.send({ ...question, id });
      });
    },
    /** The entry point ends when its channel closes. */
    async stop() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

function firstMessage(child: ChildProcess, exited: Promise<number | null>): Promise<{ contract?: unknown }> {
  return Promise.race([
    new Promise<{ contract?: unknown }>((resolve) => child.once('message', resolve)),
    exited.then((code) => Promise.reject(new Error(`the entry point exited (${code}) before saying its contract`))),
  ]);
}

/** Runs each build's audit and prints its verdict; returns whether both are clean. */
export async function printAudits(builds: Build[]): Promise<boolean> {
  let clean = true;
  for (const build of builds) {
    const { violations } = await build.ask<Audit>({ command: 'audit' });
    clean = printVerdict(violations, `${build.name}: `) && clean;
  }
  return clean;
}
