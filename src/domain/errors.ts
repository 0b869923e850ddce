/**
 * Every refusal the domain makes is one of these: a stable `code` for programs, a `message` for people.
 * The schema turns them into typed GraphQL results; nothing else ever reaches a client.
 */
export abstract class OvationError extends Error {
  abstract readonly code: string;
}

export type Problem = { field: string; message: string };

export class ValidationError extends OvationError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly problems: Problem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.message}`).join('; '));
  }
}

export class NotAuthenticatedError extends OvationError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'Sign in to do this') {
    super(message);
  }
}

export class ForbiddenError extends OvationError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'You are not allowed to do this') {
    super(message);
  }
}

export class NotFoundError extends OvationError {
  readonly code = 'NOT_FOUND';
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

export class HandleTakenError extends OvationError {
  readonly code = 'HANDLE_TAKEN';
  constructor(readonly handle: string) {
    super(`The handle "${handle}" is taken`);
  }
}
