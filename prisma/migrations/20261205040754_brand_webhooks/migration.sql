-- CreateEnum
CREATE TYPE "BrandEventType" AS ENUM ('MATCH_MADE', 'CAMPAIGN_ACTIVATED', 'CAMPAIGN_PAUSED', 'CAMPAIGN_EXHAUSTED', 'CAMPAIGN_ENDED', 'CAMPAIGN_SETTLED', 'ENDPOINT_DISABLED');

-- CreateEnum
CREATE TYPE "WebhookDeliveryStatus" AS ENUM ('PENDING', 'DELIVERED', 'FAILED');

-- CreateTable
CREATE TABLE "BrandEvent" (
    "id" UUID NOT NULL,
    "brandId" UUID NOT NULL,
    "campaignId" UUID,
    "type" "BrandEventType" NOT NULL,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrandEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookEndpoint" (
    "id" UUID NOT NULL,
    "brandId" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "eventTypes" "BrandEventType"[],
    "description" TEXT,
    "disabledAt" TIMESTAMPTZ(3),
    "disabledReason" TEXT,
    "failingSince" TIMESTAMPTZ(3),
    "lastSuccessAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookEndpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookSecret" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "secret" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookSecret_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" UUID NOT NULL,
    "position" BIGSERIAL NOT NULL,
    "eventId" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "orderKey" UUID NOT NULL,
    "status" "WebhookDeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastStatusCode" INTEGER,
    "lastError" TEXT,
    "lastAttemptAt" TIMESTAMPTZ(3),
    "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deliveredAt" TIMESTAMPTZ(3),
    "redeliveryOfId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BrandEvent_brandId_createdAt_idx" ON "BrandEvent"("brandId", "createdAt");

-- CreateIndex
CREATE INDEX "WebhookEndpoint_brandId_createdAt_idx" ON "WebhookEndpoint"("brandId", "createdAt");

-- CreateIndex
CREATE INDEX "WebhookSecret_endpointId_idx" ON "WebhookSecret"("endpointId");

-- CreateIndex
CREATE INDEX "WebhookDelivery_endpointId_orderKey_status_position_idx" ON "WebhookDelivery"("endpointId", "orderKey", "status", "position");

-- CreateIndex
CREATE INDEX "WebhookDelivery_endpointId_createdAt_idx" ON "WebhookDelivery"("endpointId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_position_key" ON "WebhookDelivery"("position");

-- AddForeignKey
ALTER TABLE "BrandEvent" ADD CONSTRAINT "BrandEvent_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookEndpoint" ADD CONSTRAINT "WebhookEndpoint_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookSecret" ADD CONSTRAINT "WebhookSecret_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "BrandEvent"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: a delivery always has its job. Inserting deliveries queues, in the same transaction, one
-- graphile-worker job per endpoint and order key (src/domain/brands/webhooks/events.ts), keyed so many
-- deliveries make one job, and a job waiting out a retry keeps its time (preserve_run_at). The job
-- queue's schema is installed with the migrations (src/jobs/runner.ts); the function is resolved when run.
CREATE FUNCTION queue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM graphile_worker.add_job('deliverWebhooks', json_build_object('endpointId', "endpointId", 'orderKey', "orderKey"),
    queue_name := k, job_key := k, job_key_mode := 'preserve_run_at', max_attempts := 25)
  FROM (SELECT DISTINCT "endpointId", "orderKey", 'webhooks:' || "endpointId" || ':' || "orderKey" AS k FROM added) jobs;
  RETURN NULL;
END $$;

CREATE TRIGGER "WebhookDelivery_jobs" AFTER INSERT ON "WebhookDelivery"
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION queue_webhook_deliveries();
