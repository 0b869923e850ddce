import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildOverlay } from '../../scripts/build-overlay.js';
import type { User } from '../../src/generated/prisma/client.js';
import { range, sendGift as sendRoomGift } from '../rooms-live/support.js';
import { ok, TEST_DOCUMENTS } from '../support/graphql.js';
import { ARTIFACTS, browserMissing, launchBrowser } from '../support/browser.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { CreateOverlayToken, RevokeOverlayToken } from './documents.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { createFundedBrand } from '../brands/support.js';

// The overlays as OBS shows them: pages served by Ovation, in Chromium, against running instances on
// real PostgreSQL (and Redis, for the restart). Screenshots go to test-artifacts/overlays. Every instance
// runs only trusted documents, as production may (the pages' document is Ovation's own; the tests send
// theirs by id): the overlays must keep working there.

const missing = browserMissing();
const redisUrl = process.env.REDIS_URL;
const SHOTS = path.join(ARTIFACTS, 'overlays');
const TRUSTED_ONLY = { TRUSTED_DOCUMENTS: TEST_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY: 'true' };
const sendGift = (...[url, sender, session, gift, options]: Parameters<typeof sendRoomGift>) => sendRoomGift(url, sender, session, gift, { ...options, byId: true });

let browser: BrowserContext;
let a: TestServer;
beforeAll(async () => {
  if (missing) return;
  await buildOverlay();
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
  a = await startTestServer({ redisUrl, variables: { OVERLAY_STREAK_QUIET_MS: '1000', ...TRUSTED_ONLY } });
}, 60_000);

async function overlayTokenOf(server: TestServer, creator: Pick<User, 'id'>) {
  const created = (await ok(server.url, CreateOverlayToken, { input: { label: 'OBS' } }, { token: await tokenFor(creator), byId: true })).createOverlayToken;
  if (created.__typename !== 'CreatedOverlayToken') throw new Error(JSON.stringify(created));
  return created;
}

/** An overlay page as OBS opens it; it records every alert element it ever adds (window.added). */
async function openOverlay(url: string, kind: string, secret: string, settings = ''): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const added: HTMLElement[] = ((window as unknown as { added: HTMLElement[] }).added = []);
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) if (node instanceof HTMLElement && node.classList.contains('ovation-alert')) added.push(node);
    }).observe(document, { childList: true, subtree: true });
  });
  const problems: string[] = [];
  // Gift images point at a CDN this machine cannot reach: only script errors and CSP refusals count.
  page.on('console', (message) => message.text().includes('Content Security Policy') && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${new URL(url).origin}/overlay/${kind}?${settings}#token=${secret}`);
  await page.locator('#ovation[data-state="live"]').waitFor({ timeout: 10_000 });
  (page as Page & { problems: string[] }).problems = problems;
  return page;
}

/** Every alert the page ever added, in order: its streak's first gift and its count. */
const addedAlerts = (page: Page) =>
  page.evaluate(() => (window as unknown as { added: HTMLElement[] }).added.map((alert) => ({ first: Number(alert.dataset.firstSequence), count: Number(alert.dataset.count) })));

const shot = (page: Page, name: string) => page.locator('#ovation').screenshot({ path: path.join(SHOTS, `${name}.png`), omitBackground: true });

describe.skipIf(missing)('overlays in Chromium', () => {
  test('gift alerts show the sender (as text), the gift and the count; a 30-tap combo is one alert counting to 30', async () => {
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    const [rose, lion] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 10n, { name: 'Lion' })]);
    const sly = await createFundedViewer(db, 1_000n, { displayName: '<img src=x onerror="document.title=1">Sly' });
    const ann = await createFundedViewer(db, 1_000n, { displayName: 'Ann' });
    const { secret } = await overlayTokenOf(a, creator);
    const page = await openOverlay(a.url, 'alerts', secret, 'duration=60&max=10');

    await sendGift(a.url, sly, session, lion, { quantity: 3 });
    await sendGift(a.url, ann, session, rose);
    const alerts = page.locator('.ovation-alert');
    await expect.poll(() => alerts.count()).toBe(2);
    // Newest on top.
    expect(await alerts.nth(1).locator('.ovation-alert-sender').textContent()).toBe('<img src=x onerror="document.title=1">Sly');
    expect(await alerts.nth(1).locator('.ovation-alert-gift').textContent()).toBe('Lion');
    expect(await alerts.nth(1).locator('.ovation-alert-count').textContent()).toBe('×3');
    expect(await alerts.nth(0).locator('.ovation-alert-sender').textContent()).toBe('Ann');
    expect(await page.locator('.ovation-alert img[src="x"]').count()).toBe(0);

    const comboId = randomUUID();
    for (let tap = 0; tap < 30; tap++) await sendGift(a.url, ann, session, rose, { comboId });
    const combo = page.locator('.ovation-alert[data-first-sequence="3"]');
    await expect.poll(() => combo.locator('.ovation-alert-count').textContent()).toBe('×30');
    expect((await addedAlerts(page)).filter((alert) => alert.first === 3)).toEqual([{ first: 3, count: 30 }]);
    expect(await alerts.count()).toBe(3);
    expect(await page.title()).not.toBe('1');
    await shot(page, 'alerts');
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
    await expectCleanAudit(db);
  });

  test("a brand's match shows as its own alert after the gift's, naming the brand (as text) and the coins it added", async () => {
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    const lion = await createCatalogGift(db, 10n, { name: 'Lion' });
    const fan = await createFundedViewer(db, 100n, { displayName: 'Fan' });
    const funded = await createFundedBrand(db, 500n);
    const draft = await createMatchingCampaign(db, funded.caller, {
      brandId: funded.brand.id, name: 'Match', creatorId: creator.id, ratioPercent: 100, budgetCoins: 500n,
      startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    await changeCampaign(db, silentAnnouncer, funded.caller, 'activate', { campaignId: draft.id });
    const { secret } = await overlayTokenOf(a, creator);
    const page = await openOverlay(a.url, 'alerts', secret, 'duration=60&max=10');

    await sendGift(a.url, fan, session, lion);
    const match = page.locator('.ovation-alert--match');
    await expect.poll(() => match.count()).toBe(1);
    expect(await match.locator('.ovation-alert-brand').textContent()).toBe(funded.brand.name);
    expect(await match.locator('.ovation-alert-sender').textContent()).toBe('Fan');
    expect(await match.locator('.ovation-alert-coins').textContent()).toBe('+10 coins');
    expect(await page.locator('.ovation-alert').count()).toBe(2);
    await shot(page, 'alerts-match');
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
    await expectCleanAudit(db);
  });

  test.skipIf(!redisUrl)('the instance the page is on restarts while gifts go through another: every gift once, in order', async () => {
    const first = await startTestServer({ database: a.database, redisUrl, variables: TRUSTED_ONLY });
    const b = await startTestServer({ database: a.database, redisUrl, variables: TRUSTED_ONLY });
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    const heart = await createCatalogGift(db, 5n, { name: 'Heart' });
    const senders = await Promise.all(range(1, 30).map(() => createFundedViewer(db, 100n)));
    const { secret } = await overlayTokenOf(a, creator);
    const page = await openOverlay(first.url, 'alerts', secret, 'duration=120&max=50');
    const send = (from: TestServer, i: number) => sendGift(from.url, senders[i - 1]!, session, heart);

    for (const i of range(1, 5)) await send(first, i);
    await expect.poll(() => page.locator('#ovation').getAttribute('data-sequence')).toBe('5');
    await first.stop();
    for (const i of range(6, 15)) await send(b, i);
    await expect.poll(() => page.locator('#ovation').getAttribute('data-state')).toBe('connecting');
    await startTestServer({ database: a.database, redisUrl, variables: { PORT: new URL(first.url).port, ...TRUSTED_ONLY } });
    for (const i of range(16, 30)) await send(b, i);
    await expect.poll(() => page.locator('#ovation').getAttribute('data-sequence'), { timeout: 20_000 }).toBe('30');
    expect((await addedAlerts(page)).map((alert) => alert.first)).toEqual(range(1, 30));
    await expectCleanAudit(db);
  });

  test('a page closed and opened again (OBS shutting a hidden source down) shows what it missed meanwhile, once', async () => {
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    const heart = await createCatalogGift(db, 5n, { name: 'Heart' });
    const senders = await Promise.all(range(1, 6).map(() => createFundedViewer(db, 100n)));
    const { secret } = await overlayTokenOf(a, creator);
    const settings = 'duration=60&max=10';
    const before = await openOverlay(a.url, 'alerts', secret, settings);
    for (const i of range(1, 3)) await sendGift(a.url, senders[i - 1]!, session, heart);
    await expect.poll(() => before.locator('#ovation').getAttribute('data-sequence')).toBe('3');
    await before.close({ runBeforeUnload: true });
    for (const i of range(4, 6)) await sendGift(a.url, senders[i - 1]!, session, heart);
    const after = await openOverlay(a.url, 'alerts', secret, settings);
    await expect.poll(() => after.locator('#ovation').getAttribute('data-sequence')).toBe('6');
    expect((await addedAlerts(after)).map((alert) => alert.first)).toEqual([4, 5, 6]);
  });

  test('the goal bar, the top gifters and the viewer count change as gifts arrive', async () => {
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    await db.liveSession.update({ where: { id: session.id }, data: { goalCoins: 100n } });
    const lion = await createCatalogGift(db, 10n, { name: 'Lion' });
    const [mia, leo] = await Promise.all([createFundedViewer(db, 1_000n, { displayName: 'Mia' }), createFundedViewer(db, 1_000n, { displayName: 'Leo' })]);
    const { secret } = await overlayTokenOf(a, creator);
    const [goal, top, viewers] = await Promise.all([
      openOverlay(a.url, 'goal', secret, 'accent=00c2ff'),
      openOverlay(a.url, 'top-gifters', secret),
      openOverlay(a.url, 'viewers', secret),
    ]);
    const fill = goal.locator('.ovation-goal-fill');
    expect(await goal.locator('.ovation-goal-numbers').textContent()).toBe('0 / 100');
    expect(await top.locator('.ovation-top-entry').count()).toBe(0);

    await sendGift(a.url, mia, session, lion, { quantity: 3 });
    await sendGift(a.url, leo, session, lion, { quantity: 2 });
    await expect.poll(() => goal.locator('.ovation-goal-numbers').textContent()).toBe('50 / 100');
    expect(await fill.evaluate((element) => element.style.width)).toBe('50%');
    await expect.poll(() => top.locator('.ovation-top-name').allTextContents()).toEqual(['Mia', 'Leo']);
    await sendGift(a.url, leo, session, lion, { quantity: 5 });
    await expect.poll(() => goal.locator('.ovation-goal').getAttribute('class')).toContain('ovation-goal--reached');
    await expect.poll(() => top.locator('.ovation-top-name').allTextContents()).toEqual(['Leo', 'Mia']);
    // Three overlays open, none of them a viewer.
    expect(await viewers.locator('.ovation-viewers-count').textContent()).toBe('0');
    await Promise.all([shot(goal, 'goal'), shot(top, 'top-gifters'), shot(viewers, 'viewers')]);
  });

  test("a revoked token's page stops and says so", async () => {
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    const rose = await createCatalogGift(db, 1n, { name: 'Rose' });
    const fan = await createFundedViewer(db, 100n);
    const { secret, overlayToken } = await overlayTokenOf(a, creator);
    const page = await openOverlay(a.url, 'alerts', secret);
    await ok(a.url, RevokeOverlayToken, { input: { overlayTokenId: overlayToken.id } }, { token: await tokenFor(creator), byId: true });
    await expect.poll(() => page.locator('#ovation').getAttribute('data-state'), { timeout: 10_000 }).toBe('revoked');
    expect(await page.locator('.ovation-status').textContent()).toContain('revoked');
    await sendGift(a.url, fan, session, rose);
    await page.waitForTimeout(500);
    expect(await page.locator('.ovation-alert').count()).toBe(0);
    await shot(page, 'revoked');
  });

  test('settings from the URL: minimum coins, colours, alerts on screen; a URL without a token says what is missing', async () => {
    const { db } = a;
    const { creator, session } = await createLiveCreator(db);
    const [rose, lion] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 10n, { name: 'Lion' })]);
    const fan = await createFundedViewer(db, 1_000n);
    const { secret } = await overlayTokenOf(a, creator);
    const page = await openOverlay(a.url, 'alerts', secret, 'minCoins=5&accent=00ff00&max=1&duration=60');
    await sendGift(a.url, fan, session, rose);
    await sendGift(a.url, fan, session, lion);
    await sendGift(a.url, fan, session, lion, { quantity: 2 });
    await expect.poll(() => page.locator('.ovation-alert .ovation-alert-count').allTextContents()).toEqual(['×2']);
    expect((await addedAlerts(page)).map((alert) => alert.first)).toEqual([2, 3]);
    expect(await page.locator('.ovation-alert-count').evaluate((element) => getComputedStyle(element).color)).toBe('rgb(0, 255, 0)');

    const lost = await browser.newPage();
    await lost.goto(`${new URL(a.url).origin}/overlay/alerts`);
    await expect.poll(() => lost.locator('.ovation-status').textContent()).toContain('#token=');
  });

  test('the pages send a strict Content-Security-Policy', async () => {
    const response = await fetch(new URL('/overlay/alerts', a.url));
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await fetch(new URL('/overlay/nothing', a.url))).status).toBe(404);
  });
});
