import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EXAMPLE_TABS } from '../../src/edge/graphiql.js';
import { browserMissing, launchBrowser } from '../support/browser.js';
import { startTestServer } from '../support/server.js';

// The development GraphiQL works on a machine with no internet: everything it loads comes from the
// server itself, and the README's example operations are open in it.

const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const missing = browserMissing();

test("GraphiQL's tabs are the README's example operations", () => {
  const blocks = [...README.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]);
  expect(blocks).toContain(EXAMPLE_TABS[1]!.query);
  expect(blocks).toContain(EXAMPLE_TABS[2]!.query);
  expect(README).toContain(EXAMPLE_TABS[0]!.query.split('\n').at(-2)!);
});

describe.skipIf(missing)('GraphiQL offline', () => {
  test('renders in Chromium with every request outside the server refused', async () => {
    const server = await startTestServer({ env: 'development' });
    const origin = new URL(server.url).origin;
    const browser = await launchBrowser();
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    await page.goto(server.url, { waitUntil: 'load' });
    await page.locator('.graphiql-container').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.graphiql-tab').count(), { timeout: 10_000 }).toBe(EXAMPLE_TABS.length);
    expect(elsewhere).toEqual([]);
  }, 60_000);
});
