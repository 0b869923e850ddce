import { z } from 'zod';
import { transaction } from '../../db/transaction.js';
import { PayoutMethodKind, type PayoutMethod } from '../../generated/prisma/client.js';
import { NotFoundError, OwnPayoutError, PayoutProviderUnavailableError, ValidationError } from '../errors.js';
import { validate } from '../validation.js';
import { verifyLocked, type PayoutDeps } from './lifecycle.js';

/** Methods a creator may have at once: enough for a bank account, a wallet and a change of either. */
export const MAX_PAYOUT_METHODS = 5;

const bankAccount = z.object({
  holderName: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  routingNumber: z.string().trim().regex(/^\d{9}$/, 'must be the 9-digit routing number'),
  accountNumber: z.string().trim().regex(/^\d{4,17}$/, 'must be 4-17 digits'),
});
const emailWallet = z.object({ email: z.email('must be an e-mail address').max(254, 'must be at most 254 characters') });

const stripeAccount = z.object({ accountId: z.string().trim().regex(/^acct_[A-Za-z0-9]{1,64}$/, 'must be a Stripe connected account id (acct_...)') });

const methodInput = z
  .object({ bankAccount: bankAccount.optional(), emailWallet: emailWallet.optional(), stripeAccount: stripeAccount.optional() })
  .refine((input) => [input.bankAccount, input.emailWallet, input.stripeAccount].filter(Boolean).length === 1, 'give one of a bank account, an e-mail wallet or a Stripe connected account');

export type PayoutMethodInput = z.input<typeof methodInput>;

/** How a method is shown, anywhere: enough to recognise it, never enough to use it. */
export function maskedDestination(method: Pick<PayoutMethod, 'kind' | 'destination'>): string {
  if (method.kind === PayoutMethodKind.BANK_ACCOUNT) return `•••• ${method.destination.slice(-4)}`;
  if (method.kind === PayoutMethodKind.STRIPE_ACCOUNT) return `acct_••••${method.destination.slice(-4)}`;
  const [name, domain] = method.destination.split('@') as [string, string];
  return `${name.slice(0, 1)}•••@${domain}`;
}

/**
 * A creator registers where payouts go. Only what the provider needs to pay is kept: for a bank account
 * the name, routing and account numbers; for an e-mail wallet the address. It must be verified before
 * use. Once the creator has (or ever had) a verified method, a new one waits out the cooling-off
 * period, so a stolen session cannot redirect money at once; a first method does not wait.
 */
export async function addPayoutMethod(deps: PayoutDeps, creatorId: string, input: PayoutMethodInput, now = new Date()): Promise<PayoutMethod> {
  const data = validate(methodInput, input);
  if (!deps.provider) throw new PayoutProviderUnavailableError();
  const provider = deps.provider.name;
  return transaction(deps.db, async (tx) => {
    // The creator, locked: two methods added at once, or one added while another is verified, see each other.
    await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${creatorId}::uuid FOR NO KEY UPDATE`;
    const methods = await tx.payoutMethod.findMany({ where: { creatorId }, select: { verifiedAt: true, removedAt: true } });
    if (methods.filter((method) => !method.removedAt).length >= MAX_PAYOUT_METHODS) {
      throw new ValidationError([{ field: 'input', message: `a creator has at most ${MAX_PAYOUT_METHODS} payout methods; remove one first` }]);
    }
    const coolsOff = methods.some((method) => method.verifiedAt);
    const usableFrom = coolsOff ? new Date(now.getTime() + deps.policy.payouts.methodCoolingOffMs) : now;
    const details = data.bankAccount
      ? { kind: PayoutMethodKind.BANK_ACCOUNT, destination: data.bankAccount.accountNumber, routingNumber: data.bankAccount.routingNumber, holderName: data.bankAccount.holderName }
      : data.stripeAccount
        ? { kind: PayoutMethodKind.STRIPE_ACCOUNT, destination: data.stripeAccount.accountId }
        : { kind: PayoutMethodKind.EMAIL_WALLET, destination: data.emailWallet!.email.toLowerCase() };
    const kinds = deps.provider!.methodKinds;
    if (kinds && !kinds.includes(details.kind)) {
      throw new ValidationError([{ field: 'input', message: `this server's payout provider pays to ${kinds.join(', ')} only` }]);
    }
    return tx.payoutMethod.create({ data: { creatorId, provider, usableFrom, createdAt: now, ...details } });
  });
}

const methodId = z.object({ methodId: z.uuid('is not a payout method id') });

/** The creator removes a method: no new payout can use it; payouts already asked for still pay to it. */
export async function removePayoutMethod(deps: PayoutDeps, creatorId: string, input: { methodId: string }, now = new Date()): Promise<PayoutMethod> {
  const { methodId: id } = validate(methodId, input);
  const method = await deps.db.payoutMethod.findFirst({ where: { id, creatorId } });
  if (!method) throw new NotFoundError('Payout method');
  await deps.db.payoutMethod.updateMany({ where: { id, removedAt: null }, data: { removedAt: now } });
  return deps.db.payoutMethod.findUniqueOrThrow({ where: { id } });
}

/** An operator verifies a creator's method (the provider's callback does the same). */
export async function verifyPayoutMethod(deps: PayoutDeps, adminId: string, input: { methodId: string }, now = new Date()): Promise<PayoutMethod> {
  const { methodId: id } = validate(methodId, input);
  return transaction(deps.db, async (tx) => {
    const method = await tx.payoutMethod.findUnique({ where: { id } });
    if (!method || method.removedAt) throw new NotFoundError('Payout method');
    if (method.creatorId === adminId) throw new OwnPayoutError();
    await verifyLocked(tx, id, { verifiedById: adminId }, now);
    return tx.payoutMethod.findUniqueOrThrow({ where: { id } });
  });
}
