import { ForbiddenError, HandleTakenError, NotAuthenticatedError, NotFoundError, OvationError, ValidationError } from '../domain/errors.js';
import { builder } from './builder.js';

/** The one error shape: every refusal has a stable code and a human message. */
export const ErrorInterface = builder.interfaceRef<OvationError>('Error').implement({
  description: 'A refusal. `code` is stable for programs; `message` is for people.',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
});

const Problem = builder.objectRef<{ field: string; message: string }>('Problem').implement({
  description: 'One invalid input field.',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Path of the input field, dot-separated.' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ problems: t.field({ type: [Problem], resolve: (error) => error.problems }) }),
});

for (const [errorClass, name] of [
  [NotAuthenticatedError, 'NotAuthenticatedError'],
  [ForbiddenError, 'ForbiddenError'],
  [NotFoundError, 'NotFoundError'],
  [HandleTakenError, 'HandleTakenError'],
] as const) {
  builder.objectType(errorClass as typeof NotFoundError, { name, interfaces: [ErrorInterface], fields: () => ({}) });
}
