import { decodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from '../domain/errors.js';

/** The one id encoding: Relay global ids. Decodes one for a given type, or names the bad field. */
export function idOf(globalId: string, typename: string, field: string): string {
  try {
    const decoded = decodeGlobalID(globalId);
    if (decoded.typename === typename) return decoded.id;
  } catch {
    // Falls through to the typed error below.
  }
  throw new ValidationError([{ field, message: `is not a ${typename} id` }]);
}
