import { execFile } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { startTestServer } from '../support/server.js';
import { createUser } from '../support/users.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/token.ts', import.meta.url));

type Run = { code: number; stdout: string; stderr: string };

/** `npm run token -- <handle>`, without npm in between. */
function token(handle: string, ovationUrl: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', SCRIPT, handle], { env: { ...process.env, OVATION_URL: ovationUrl } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A URL nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

const development = await startTestServer({ env: 'development' });
const production = await startTestServer({ env: 'production', database: development.database });

describe('npm run token -- <handle>', () => {
  test('prints a token that signs in as the user, and nothing else on stdout', async () => {
    const user = await createUser(development.db);
    const run = await token(`@${user.handle}`, development.url);
    expect(run).toMatchObject({ code: 0 });

    const me = await fetch(development.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${run.stdout.trim()}` },
      body: JSON.stringify({ query: '{ me { handle } }' }),
    });
    expect(await me.json()).toEqual({ data: { me: { handle: user.handle } } });
  });

  test('an unknown handle, no server, or a production server each fail with a message saying why', async () => {
    const [unknown, noServer, refused] = await Promise.all([
      token('nobody_here', development.url),
      token('ada', await deadUrl()),
      token((await createUser(production.db)).handle, production.url),
    ]);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^No user @nobody_here on .*\. Demo handles: ada, max/);
    expect(noServer).toMatchObject({ code: 1, stdout: '' });
    expect(noServer.stderr).toMatch(/^No Ovation server answers at http:\/\/127\.0\.0\.1:\d+\/graphql \(ECONNREFUSED\)\.\nStart one with `npm run dev`/);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/refused: devToken is only available in development \(NODE_ENV=development\)\./);
  });
});
