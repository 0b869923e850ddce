import { auditLedger } from '../domain/audit.js';
import { changeRestriction } from '../domain/safeguards.js';
import { Role, RestrictionKind } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { MONEY_ERRORS } from './errors.js';
import { idOf } from './ids.js';
import { User } from './users.js';

const RestrictionKindEnum = builder.enumType(RestrictionKind, { name: 'RestrictionKind' });

const Violation = builder.objectRef<{ invariant: string; detail: string }>('LedgerViolation').implement({
  fields: (t) => ({
    invariant: t.exposeString('invariant'),
    detail: t.exposeString('detail', { description: 'The offending rows, as JSON.' }),
  }),
});

const LedgerAudit = builder.objectRef<{ violations: { invariant: string; detail: string }[]; checkedAt: Date }>('LedgerAudit').implement({
  fields: (t) => ({
    clean: t.boolean({ resolve: (audit) => audit.violations.length === 0 }),
    checkedAt: t.expose('checkedAt', { type: 'DateTime' }),
    violations: t.field({ type: [Violation], resolve: (audit) => audit.violations }),
  }),
});

const RestrictionInput = builder.inputType('RestrictionInput', {
  fields: (t) => ({
    userId: t.id(),
    kind: t.field({ type: RestrictionKindEnum }),
    reason: t.string({ description: 'Kept in the account history.' }),
  }),
});

builder.queryFields((t) => ({
  ledgerAudit: t.field({
    type: LedgerAudit,
    description: 'Operators: checks every money invariant against the whole ledger.',
    authScopes: { role: Role.ADMIN },
    resolve: async (_root, _args, context) => ({ violations: await auditLedger(context.db), checkedAt: new Date() }),
  }),
}));

builder.mutationFields((t) => {
  const restriction = (placed: boolean, description: string) =>
    t.field({
      type: User,
      description,
      authScopes: { role: Role.ADMIN },
      args: { input: t.arg({ type: RestrictionInput }) },
      errors: { types: MONEY_ERRORS },
      resolve: (_root, { input }, context) =>
        changeRestriction(context.db, { adminId: context.viewer!.userId, userId: idOf(input.userId, 'User', 'userId'), kind: input.kind, placed, reason: input.reason }),
    });
  return {
    restrictAccount: restriction(true, 'Operators: bans an account from buying, gifting, receiving or payouts.'),
    liftRestriction: restriction(false, 'Operators: lifts a restriction.'),
  };
});
