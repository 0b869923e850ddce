import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** Parses input with a zod schema; every problem becomes one entry of a ValidationError. */
export function validate<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({ field: issue.path.join('.') || 'input', message: issue.message })),
  );
}
