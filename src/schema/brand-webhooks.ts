import {
  deleteWebhookEndpoint,
  redeliverWebhook,
  registerWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type IssuedSecret,
} from '../domain/brands/webhooks/endpoints.js';
import { eventBody } from '../domain/brands/webhooks/delivery.js';
import { ForbiddenError, NotAuthenticatedError, NotFoundError, ValidationError } from '../domain/errors.js';
import { BrandEventType, WebhookDeliveryStatus } from '../generated/prisma/client.js';
import { callerOf, mayOnBrand } from './brands.js';
import { builder } from './builder.js';
import { connectionCost, UNSIZED_LIST } from './cost.js';
import { globalId, idOf } from './ids.js';

const BrandEventTypeEnum = builder.enumType(BrandEventType, {
  name: 'BrandEventType',
  description: 'What a webhook endpoint can be told; its `type` in the body is the lower-case name with a dot (MATCH_MADE: "match.made").',
});
const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus' });

builder.prismaObject('BrandEvent', {
  description: 'One event a brand is told, as its endpoints receive it.',
  fields: (t) => ({
    id: t.exposeString('id', { description: "The event's stable id, the same in every delivery of it: deduplicate on it." }),
    type: t.expose('type', { type: BrandEventTypeEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    body: t.string({ description: 'The JSON body every delivery of it sends.', resolve: (event) => eventBody(event) }),
  }),
});

builder.prismaObject('WebhookDelivery', {
  description: 'One event to one endpoint: its attempts and outcome.',
  fields: (t) => ({
    id: t.id({ resolve: (delivery) => globalId('WebhookDelivery', delivery.id) }),
    event: t.relation('event'),
    status: t.expose('status', { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: "The endpoint's HTTP status at the last attempt; null if it gave none." }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is tried next, while PENDING.',
      resolve: (delivery) => (delivery.status === WebhookDeliveryStatus.PENDING ? delivery.nextAttemptAt : null),
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    redelivery: t.boolean({ description: 'Asked for with redeliverWebhook.', resolve: (delivery) => delivery.redeliveryOfId !== null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('WebhookSecret', {
  description: 'A signing secret, without the secret: when it was made and until when it signs.',
  fields: (t) => ({
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
  }),
});

const WebhookEndpointRef = builder.prismaObject('WebhookEndpoint', {
  description: "Where a brand's back-end hears its events, signed (README, \"Brand webhooks\").",
  fields: (t) => ({
    id: t.id({ resolve: (endpoint) => globalId('WebhookEndpoint', endpoint.id) }),
    url: t.exposeString('url'),
    eventTypes: t.expose('eventTypes', { type: [BrandEventTypeEnum] }),
    description: t.exposeString('description', { nullable: true }),
    enabled: t.boolean({ resolve: (endpoint) => endpoint.disabledAt === null }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Disabled by the brand, or after failing for too long (and since when).' }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true, description: 'The first failed attempt since the last success.' }),
    lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    signingSecrets: t.relation('secrets', {
      description: 'Secrets that sign its deliveries now: one, or two during a rotation.',
      complexity: { field: 1, multiplier: UNSIZED_LIST },
      query: () => ({ where: { OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] }, orderBy: { createdAt: 'asc' } }),
    }),
    deliveries: t.relatedConnection('deliveries', {
      cursor: 'id',
      description: 'Its deliveries, newest first; with `status`, only those.',
      complexity: connectionCost,
      args: { status: t.arg({ type: WebhookDeliveryStatusEnum, required: false }) },
      query: ({ status }) => ({ where: status ? { status } : {}, orderBy: [{ position: 'desc' }] }),
    }),
  }),
});

builder.prismaObjectField('Brand', 'webhookEndpoints', (t) =>
  t.relation('webhookEndpoints', {
    description: "The brand's webhook endpoints (its people and READ keys).",
    complexity: { field: 1, multiplier: UNSIZED_LIST },
    query: { orderBy: { createdAt: 'asc' } },
    resolve: async (query, brand, _args, context) => {
      await mayOnBrand(context, brand.id, 'read');
      return context.db.webhookEndpoint.findMany({ ...query, where: { brandId: brand.id }, orderBy: { createdAt: 'asc' } });
    },
  }),
);

const IssuedWebhookSecretRef = builder.objectRef<IssuedSecret>('IssuedWebhookSecret').implement({
  description: 'An endpoint with a new signing secret: shown this once and never again.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (issued) => issued.endpoint }),
    secret: t.exposeString('secret', { description: 'Verify each delivery with it (README, "Brand webhooks").' }),
  }),
});

const RegisterWebhookEndpointInput = builder.inputType('RegisterWebhookEndpointInput', {
  fields: (t) => ({
    brandId: t.id(),
    url: t.string({ description: 'https:// (in production, to a public address).' }),
    eventTypes: t.field({ type: [BrandEventTypeEnum] }),
    description: t.string({ required: false }),
  }),
});
const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    endpointId: t.id(),
    url: t.string({ required: false }),
    eventTypes: t.field({ type: [BrandEventTypeEnum], required: false }),
    enabled: t.boolean({ required: false, description: 'false disables it; true enables it again and delivers what waited.' }),
  }),
});
const DeleteWebhookEndpointInput = builder.inputType('DeleteWebhookEndpointInput', { fields: (t) => ({ endpointId: t.id() }) });
const RotateWebhookSecretInput = builder.inputType('RotateWebhookSecretInput', {
  fields: (t) => ({
    endpointId: t.id(),
    overlapSeconds: t.int({ required: false, description: 'How long the current secrets keep signing too (24 hours unless given; at most 7 days).' }),
  }),
});
const RedeliverWebhookInput = builder.inputType('RedeliverWebhookInput', { fields: (t) => ({ deliveryId: t.id() }) });

const ENDPOINT_ERRORS = [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError];

builder.mutationFields((t) => ({
  registerWebhookEndpoint: t.field({
    type: IssuedWebhookSecretRef,
    description: "A brand's owner registers a webhook endpoint. Its signing secret is in this answer only.",
    args: { input: t.arg({ type: RegisterWebhookEndpointInput }) },
    errors: { types: ENDPOINT_ERRORS },
    resolve: (_root, { input }, context) =>
      registerWebhookEndpoint(context.db, context.webhookAddresses, callerOf(context), {
        brandId: idOf(input.brandId, 'Brand', 'brandId'),
        url: input.url,
        eventTypes: input.eventTypes,
        description: input.description,
      }),
  }),
  updateWebhookEndpoint: t.prismaField({
    type: 'WebhookEndpoint',
    description: "A brand's owner changes an endpoint's URL or event types, or disables or enables it.",
    args: { input: t.arg({ type: UpdateWebhookEndpointInput }) },
    errors: { types: ENDPOINT_ERRORS },
    resolve: (_query, _root, { input }, context) =>
      updateWebhookEndpoint(context.db, context.webhookAddresses, callerOf(context), {
        endpointId: idOf(input.endpointId, 'WebhookEndpoint', 'endpointId'),
        url: input.url,
        eventTypes: input.eventTypes,
        enabled: input.enabled,
      }),
  }),
  deleteWebhookEndpoint: t.prismaField({
    type: 'WebhookEndpoint',
    description: "A brand's owner deletes an endpoint, with its deliveries. The answer is the endpoint as it was.",
    args: { input: t.arg({ type: DeleteWebhookEndpointInput }) },
    errors: { types: ENDPOINT_ERRORS },
    resolve: (_query, _root, { input }, context) =>
      deleteWebhookEndpoint(context.db, callerOf(context), { endpointId: idOf(input.endpointId, 'WebhookEndpoint', 'endpointId') }),
  }),
  rotateWebhookSecret: t.field({
    type: IssuedWebhookSecretRef,
    description: 'A new signing secret, in this answer only; the current ones keep signing for `overlapSeconds`.',
    args: { input: t.arg({ type: RotateWebhookSecretInput }) },
    errors: { types: ENDPOINT_ERRORS },
    resolve: (_root, { input }, context) =>
      rotateWebhookSecret(context.db, callerOf(context), {
        endpointId: idOf(input.endpointId, 'WebhookEndpoint', 'endpointId'),
        overlapSeconds: input.overlapSeconds,
      }),
  }),
  redeliverWebhook: t.prismaField({
    type: 'WebhookDelivery',
    description: 'Delivers an event to the endpoint again, as a new delivery with the same event id.',
    args: { input: t.arg({ type: RedeliverWebhookInput }) },
    errors: { types: ENDPOINT_ERRORS },
    resolve: (_query, _root, { input }, context) => redeliverWebhook(context.db, callerOf(context), { deliveryId: idOf(input.deliveryId, 'WebhookDelivery', 'deliveryId') }),
  }),
}));

