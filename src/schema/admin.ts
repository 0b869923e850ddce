import { auditLedger } from '../domain/audit.js';
import { LastAdminError, NotFoundError, ValidationError } from '../domain/errors.js';
import { changeSuspension, setAdmin } from '../domain/roles.js';
import { changeRestriction } from '../domain/safeguards.js';
import { Role, RestrictionKind } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { OPERATOR_ERRORS } from './errors.js';
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

/** Placing and lifting a restriction take the same input, each under its mutation's name. */
const restrictionInput = (name: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      userId: t.id(),
      kind: t.field({ type: RestrictionKindEnum }),
      reason: t.string({ description: 'Kept in the account history.' }),
    }),
  });

const SetAdminInput = builder.inputType('SetAdminInput', {
  fields: (t) => ({
    userId: t.id(),
    admin: t.boolean({ description: 'true grants ADMIN, false revokes it.' }),
    reason: t.string({ description: 'Kept in the account history with who made the change and when.' }),
  }),
});

/** Suspending and lifting take the same input, each under its mutation's name. */
const suspensionInput = (name: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      userId: t.id(),
      reason: t.string({ description: 'Kept in the account history with who made the change and when.' }),
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
  const restriction = (placed: boolean, inputName: string, description: string) =>
    t.field({
      type: User,
      description,
      authScopes: { role: Role.ADMIN },
      args: { input: t.arg({ type: restrictionInput(inputName) }) },
      errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError] },
      resolve: (_root, { input }, context) =>
        changeRestriction(context.db, { adminId: context.viewer!.userId, userId: idOf(input.userId, 'User', 'userId'), kind: input.kind, placed, reason: input.reason }),
    });
  const suspension = (suspended: boolean, inputName: string, description: string) =>
    t.field({
      type: User,
      description,
      authScopes: { role: Role.ADMIN },
      args: { input: t.arg({ type: suspensionInput(inputName) }) },
      errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError] },
      resolve: (_root, { input }, context) =>
        changeSuspension(context.db, context.announcer, { adminId: context.viewer!.userId, userId: idOf(input.userId, 'User', 'userId'), suspended, reason: input.reason }),
    });
  return {
    suspendAccount: suspension(
      true,
      'SuspendAccountInput',
      'Operators: suspends an account. Every signed-in operation of it is refused (ACCOUNT_SUSPENDED, HTTP 403) and its open sockets close with 4403, on every instance.',
    ),
    liftSuspension: suspension(false, 'LiftSuspensionInput', "Operators: lifts an account's suspension."),
    setAdmin: t.field({
      type: User,
      description:
        'Operators: grants or revokes ADMIN. It takes effect on every instance at once (roles are read from the database). The last admin in good standing cannot be revoked (LAST_ADMIN).',
      authScopes: { role: Role.ADMIN },
      args: { input: t.arg({ type: SetAdminInput }) },
      errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError, LastAdminError] },
      resolve: (_root, { input }, context) =>
        setAdmin(context.db, context.announcer, { adminId: context.viewer!.userId, userId: idOf(input.userId, 'User', 'userId'), admin: input.admin, reason: input.reason }),
    }),
    restrictAccount: restriction(true, 'RestrictAccountInput', 'Operators: bans an account from buying, gifting, receiving or payouts.'),
    liftRestriction: restriction(false, 'LiftRestrictionInput', 'Operators: lifts a restriction.'),
  };
});
