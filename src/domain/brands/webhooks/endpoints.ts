import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../../db/client.js';
import { transaction, type Tx } from '../../../db/transaction.js';
import { BrandEventType, WebhookDeliveryStatus, type WebhookDelivery, type WebhookEndpoint } from '../../../generated/prisma/client.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { validate } from '../../validation.js';
import { authorizeBrand, type BrandCaller } from '../access.js';
import { resolvePublic, urlProblem, type AddressPolicy } from './addresses.js';
import { scheduleDeliveries } from './events.js';

/** An endpoint and, this once, a signing secret. */
export type IssuedSecret = { endpoint: WebhookEndpoint; secret: string };

/** Endpoints a brand may keep at once. */
const MAX_ENDPOINTS = 10;
/** How long a rotated-out secret keeps signing by default, and at most. */
const DEFAULT_OVERLAP_SECONDS = 24 * 3600;
const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

const url = z.string().trim().max(2048, 'must be at most 2048 characters');
const eventTypes = z.array(z.enum(BrandEventType)).min(1, 'name at least one event type');

async function checkUrl(text: string, policy: AddressPolicy): Promise<void> {
  const problem = urlProblem(text, policy);
  if (problem) throw new ValidationError([{ field: 'url', message: problem }]);
  if (policy.allowPrivate) return;
  try {
    await resolvePublic(new URL(text).hostname.replace(/^\[|\]$/g, ''), policy);
  } catch (error) {
    throw new ValidationError([{ field: 'url', message: `cannot be used: ${(error as Error).message}` }]);
  }
}

const registerInput = z.object({
  brandId: z.uuid('is not a brand id'),
  url,
  eventTypes,
  description: z.string().trim().max(200, 'must be at most 200 characters').nullish(),
});

/** An owner registers an endpoint; its first signing secret is returned here and never again. */
export async function registerWebhookEndpoint(db: Database, policy: AddressPolicy, caller: BrandCaller, input: z.input<typeof registerInput>): Promise<IssuedSecret> {
  const given = validate(registerInput, input);
  await checkUrl(given.url, policy);
  return transaction(db, async (tx) => {
    const [brand] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Brand" WHERE id = ${given.brandId}::uuid FOR NO KEY UPDATE`;
    if (!brand) throw new NotFoundError('Brand');
    await authorizeBrand(tx, caller, given.brandId, 'manage');
    if ((await tx.webhookEndpoint.count({ where: { brandId: given.brandId } })) >= MAX_ENDPOINTS) {
      throw new ValidationError([{ field: 'brandId', message: `a brand keeps at most ${MAX_ENDPOINTS} endpoints` }]);
    }
    const secret = newSecret();
    const endpoint = await tx.webhookEndpoint.create({
      data: { brandId: given.brandId, url: given.url, eventTypes: [...new Set(given.eventTypes)], description: given.description ?? null, secrets: { create: { secret } } },
    });
    return { endpoint, secret };
  });
}

/** The endpoint, locked, once the caller may manage its brand. */
async function managed(tx: Tx, caller: BrandCaller, endpointId: string): Promise<WebhookEndpoint> {
  const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "WebhookEndpoint" WHERE id = ${endpointId}::uuid FOR NO KEY UPDATE`;
  if (!row) throw new NotFoundError('Webhook endpoint');
  const endpoint = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId } });
  await authorizeBrand(tx, caller, endpoint.brandId, 'manage');
  return endpoint;
}

const updateInput = z.object({
  endpointId: z.uuid('is not a webhook endpoint id'),
  url: url.nullish(),
  eventTypes: eventTypes.nullish(),
  enabled: z.boolean().nullish(),
});

/**
 * An owner changes an endpoint's URL or event types, or disables or enables it. Enabling clears a
 * disablement for failures and delivers what waited meanwhile.
 */
export async function updateWebhookEndpoint(db: Database, policy: AddressPolicy, caller: BrandCaller, input: z.input<typeof updateInput>, now = new Date()): Promise<WebhookEndpoint> {
  const given = validate(updateInput, input);
  if (given.url) await checkUrl(given.url, policy);
  return transaction(db, async (tx) => {
    const endpoint = await managed(tx, caller, given.endpointId);
    const enabling = given.enabled === true && endpoint.disabledAt !== null;
    const updated = await tx.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: {
        ...(given.url ? { url: given.url } : {}),
        ...(given.eventTypes ? { eventTypes: [...new Set(given.eventTypes)] } : {}),
        ...(enabling ? { disabledAt: null, disabledReason: null, failingSince: null } : {}),
        ...(given.enabled === false && endpoint.disabledAt === null ? { disabledAt: now, disabledReason: 'Disabled by the brand' } : {}),
      },
    });
    if (enabling) {
      const waiting = await tx.webhookDelivery.findMany({
        where: { endpointId: endpoint.id, status: WebhookDeliveryStatus.PENDING },
        distinct: ['orderKey'],
        select: { orderKey: true },
      });
      await scheduleDeliveries(tx, endpoint.id, waiting.map((row) => row.orderKey));
    }
    return updated;
  });
}

const endpointInput = z.object({ endpointId: z.uuid('is not a webhook endpoint id') });

/** An owner deletes an endpoint, with its secrets and deliveries. */
export async function deleteWebhookEndpoint(db: Database, caller: BrandCaller, input: z.input<typeof endpointInput>): Promise<WebhookEndpoint> {
  const { endpointId } = validate(endpointInput, input);
  return transaction(db, async (tx) => {
    const endpoint = await managed(tx, caller, endpointId);
    await tx.webhookEndpoint.delete({ where: { id: endpoint.id } });
    return endpoint;
  });
}

const rotateInput = z.object({
  endpointId: z.uuid('is not a webhook endpoint id'),
  overlapSeconds: z.number().int('must be whole seconds').min(0, 'must not be negative').max(MAX_OVERLAP_SECONDS, `must be at most ${MAX_OVERLAP_SECONDS}`).nullish(),
});

/**
 * An owner rotates the signing secret: a new one, returned this once, signs from now on; the current
 * ones keep signing too for `overlapSeconds` (24 hours unless told), so the back-end can switch over.
 */
export async function rotateWebhookSecret(db: Database, caller: BrandCaller, input: z.input<typeof rotateInput>, now = new Date()): Promise<IssuedSecret> {
  const { endpointId, overlapSeconds } = validate(rotateInput, input);
  const until = new Date(now.getTime() + (overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000);
  return transaction(db, async (tx) => {
    const endpoint = await managed(tx, caller, endpointId);
    await tx.webhookSecret.updateMany({ where: { endpointId, OR: [{ expiresAt: null }, { expiresAt: { gt: until } }] }, data: { expiresAt: until } });
    await tx.webhookSecret.deleteMany({ where: { endpointId, expiresAt: { lte: now } } });
    const secret = newSecret();
    await tx.webhookSecret.create({ data: { endpointId, secret } });
    return { endpoint, secret };
  });
}

const redeliverInput = z.object({ deliveryId: z.uuid('is not a webhook delivery id') });

/**
 * A member asks for a delivery again: a new delivery of the same event (same event id, so the back-end
 * can tell it has it), after whatever the endpoint has waiting for that campaign.
 */
export async function redeliverWebhook(db: Database, caller: BrandCaller, input: z.input<typeof redeliverInput>): Promise<WebhookDelivery> {
  const { deliveryId } = validate(redeliverInput, input);
  return transaction(db, async (tx) => {
    const original = await tx.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { endpoint: { select: { brandId: true } } } });
    if (!original) throw new NotFoundError('Webhook delivery');
    await authorizeBrand(tx, caller, original.endpoint.brandId, 'read');
    return tx.webhookDelivery.create({
      data: { eventId: original.eventId, endpointId: original.endpointId, orderKey: original.orderKey, redeliveryOfId: original.id },
    });
  });
}
