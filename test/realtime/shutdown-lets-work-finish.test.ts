import pg from 'pg';
import { describe, expect, onTestFinished, test } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { request } from '../support/graphql.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { eventually, within } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';
import { UpdateProfile, UserUpdated } from './profile-documents.js';

// Each test stops its own instance; they share this file's database.
const database = await createTestDatabase();

describe('stopping an instance', () => {
  test('closes open subscriptions with 1001 (going away) so clients reconnect elsewhere', async () => {
    const server = await startTestServer({ database });
    const user = await createUser(database.db);
    const socket = openSocket(server.url, bearer(await tokenFor(user)));
    await within(socket.connected, 'the socket to connect');
    const updates = subscribe(socket, UserUpdated);

    await within(server.stop(), 'stop() to resolve', 2_000);

    expect(await socket.nextClose()).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect((await updates.ended).error).toMatchObject({ code: 1001 });
  });

  test('answers a request already in flight, refuses new ones, and then resolves', async () => {
    const server = await startTestServer({ database });
    const user = await createUser(database.db);
    const token = await tokenFor(user);

    // Hold the user's row so the save reaches the database and waits there: it is provably in flight.
    const holder = new pg.Client({ connectionString: database.url });
    onTestFinished(() => holder.end().catch(() => {}));
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM "User" WHERE id = $1 FOR UPDATE', [user.id]);
    const saving = request(server.url, UpdateProfile, { input: { displayName: 'Saved On The Way Out' } }, { token });
    await eventually(async () => {
      // Asked outside the holder's transaction, which would keep seeing its first snapshot of the activity.
      const [{ waiting }] = await database.db.$queryRaw<[{ waiting: number }]>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      return waiting > 0 || undefined;
    }, 'the save to wait on the row lock');

    const stopping = server.stop();
    await expect(fetch(server.url, { method: 'POST' })).rejects.toThrow();
    await holder.query('COMMIT');
    await holder.end();

    const saved = await within(saving, 'the in-flight save to be answered');
    expect(saved.status).toBe(200);
    expect(saved.data?.updateProfile).toEqual({ __typename: 'User', id: expect.any(String), displayName: 'Saved On The Way Out' });
    expect(await database.db.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ displayName: 'Saved On The Way Out' });
    // Once its last request is answered there is nothing left to wait for (well within the 5 s grace).
    await within(stopping, 'stop() to resolve after the last answer', 2_000);
  });
});
