import type { SqlTx } from '../../../db/driver.js';
import type { BrandEventType } from '../../../generated/prisma/client.js';

/** What a brand is told: its type, the campaign it concerns (if any) and the data its back-end needs. */
export type BrandEventInput = { brandId: string; campaignId: string | null; type: BrandEventType; data: Record<string, unknown> };

/** The job that drains one endpoint's deliveries of one campaign (or of the brand), in order. */
export const DELIVER_TASK = 'deliverWebhooks';

/**
 * Records events inside the transaction that made the change they report (a rolled-back change tells
 * nothing, a committed one is never lost): the events, a delivery to each enabled endpoint of the brand
 * that wants the type, and a job per endpoint and campaign to deliver them. One statement, whatever the
 * number of events. The job is keyed, so many events make one job; a job waiting out a retry keeps its
 * time (preserve_run_at) instead of hammering a failing endpoint on every new event.
 */
export async function recordBrandEvents(tx: SqlTx, events: readonly BrandEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event, index) => ({ ...event, ord: index }));
  await tx.$queryRaw`
    WITH given AS MATERIALIZED (
      SELECT gen_random_uuid() AS id, * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS e(ord int, "brandId" uuid, "campaignId" uuid, type "BrandEventType", data jsonb)
    ), recorded AS (
      INSERT INTO "BrandEvent" (id, "brandId", "campaignId", type, data)
      SELECT id, "brandId", "campaignId", type, data FROM given ORDER BY ord
      RETURNING id
    ), delivering AS (
      INSERT INTO "WebhookDelivery" (id, "eventId", "endpointId", "orderKey")
      SELECT gen_random_uuid(), g.id, w.id, coalesce(g."campaignId", g."brandId")
      FROM recorded r
      JOIN given g USING (id)
      JOIN "WebhookEndpoint" w ON w."brandId" = g."brandId" AND g.type = ANY(w."eventTypes") AND w."disabledAt" IS NULL
      ORDER BY g.ord, w.id
      RETURNING "endpointId", "orderKey"
    )
    SELECT graphile_worker.add_job(${DELIVER_TASK}, json_build_object('endpointId', "endpointId", 'orderKey', "orderKey"),
      queue_name := k, job_key := k, job_key_mode := 'preserve_run_at', max_attempts := 25)
    FROM (SELECT DISTINCT "endpointId", "orderKey", 'webhooks:' || "endpointId" || ':' || "orderKey" AS k FROM delivering) jobs`;
}

/** Wakes the deliveries of one endpoint and order key (after a redelivery or when re-enabled). */
export async function scheduleDeliveries(tx: SqlTx, endpointId: string, orderKeys: readonly string[], runAt: Date | null = null): Promise<void> {
  if (orderKeys.length === 0) return;
  await tx.$queryRaw`
    SELECT graphile_worker.add_job(${DELIVER_TASK}, json_build_object('endpointId', ${endpointId}::uuid, 'orderKey', k),
      queue_name := 'webhooks:' || ${endpointId} || ':' || k, job_key := 'webhooks:' || ${endpointId} || ':' || k,
      run_at := ${runAt}::timestamptz, max_attempts := 25)
    FROM unnest(${orderKeys}::uuid[]) AS k`;
}
