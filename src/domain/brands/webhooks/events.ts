import { randomUUID } from 'node:crypto';
import { combine } from '../../../db/combine.js';
import type { SqlTx } from '../../../db/driver.js';
import { Prisma, type BrandEventType } from '../../../generated/prisma/client.js';

/** What a brand is told: its type, the campaign it concerns (if any) and the data its back-end needs (plain JSON). */
export type BrandEventInput = { brandId: string; campaignId: string | null; type: BrandEventType; data: Record<string, unknown> };

/** The job that drains one endpoint's deliveries of one campaign (or of the brand), in order. */
export const DELIVER_TASK = 'deliverWebhooks';

/**
 * The writes that record events inside the transaction making the change they report (a rolled-back
 * change tells nothing, a committed one is never lost): each event some enabled endpoint of the brand
 * wants, and a delivery to each such endpoint, in the events' order. Inserting deliveries queues their
 * job in the same transaction (trigger WebhookDelivery_jobs, migration brand_webhooks). Named clauses for
 * combine(), so the gift batch adds them to the statement it already sends; none without events.
 */
export function brandEventWrites(events: readonly BrandEventInput[]): Record<string, Prisma.Sql> {
  if (events.length === 0) return {};
  const rows = JSON.stringify(events.map((event, ord) => ({ ...event, id: randomUUID(), ord })));
  const given = Prisma.sql`jsonb_to_recordset(${rows}::jsonb) AS e(id uuid, ord int, "brandId" uuid, "campaignId" uuid, type "BrandEventType", data jsonb)`;
  return {
    // Kept only where an endpoint will be told: a brand without webhooks costs its matches no row.
    brand_events: Prisma.sql`
      INSERT INTO "BrandEvent" (id, "brandId", "campaignId", type, data)
      SELECT id, "brandId", "campaignId", type, data FROM ${given}
      WHERE EXISTS (SELECT 1 FROM "WebhookEndpoint" w WHERE w."brandId" = e."brandId" AND e.type = ANY(w."eventTypes") AND w."disabledAt" IS NULL)
      ORDER BY ord`,
    webhook_deliveries: Prisma.sql`
      INSERT INTO "WebhookDelivery" (id, "eventId", "endpointId", "orderKey")
      SELECT gen_random_uuid(), e.id, w.id, coalesce(e."campaignId", e."brandId")
      FROM ${given}
      JOIN "WebhookEndpoint" w ON w."brandId" = e."brandId" AND e.type = ANY(w."eventTypes") AND w."disabledAt" IS NULL
      ORDER BY e.ord, w.id`,
  };
}

/** Records events in `tx`, in one statement. */
export async function recordBrandEvents(tx: SqlTx, events: readonly BrandEventInput[]): Promise<void> {
  if (events.length > 0) await tx.$executeRaw(combine(brandEventWrites(events)));
}

/** Queues the job that delivers what one endpoint has waiting for these order keys: now, or at `runAt` (a retry). */
export async function scheduleDeliveries(tx: SqlTx, endpointId: string, orderKeys: readonly string[], runAt: Date | null = null): Promise<void> {
  if (orderKeys.length === 0) return;
  await tx.$queryRaw`
    SELECT graphile_worker.add_job(${DELIVER_TASK}, json_build_object('endpointId', ${endpointId}::uuid, 'orderKey', k),
      queue_name := 'webhooks:' || ${endpointId} || ':' || k, job_key := 'webhooks:' || ${endpointId} || ':' || k,
      run_at := ${runAt}::timestamptz, max_attempts := 25)
    FROM unnest(${orderKeys}::uuid[]) AS k`;
}
