import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from '../domain/errors.js';

// Every record id is a UUID, but a wallet line's: its ledger posting's serial number (kept below
// PostgreSQL's bigint range). The global id wraps it with its type name.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RECORD_ID: Record<string, RegExp> = { WalletActivity: /^[1-9]\d{0,17}$/ };

/** The one id encoding: Relay global ids, a record id wrapped with its type name. */
export const globalId = (typename: string, id: string): string => encodeGlobalID(typename, id);

/** Decodes a global id, refusing any that doesn't hold a record id. */
export function parseGlobalId(globalId: string, field = 'id'): { typename: string; id: string } {
  try {
    const decoded = decodeGlobalID(globalId);
    if ((RECORD_ID[decoded.typename] ?? UUID).test(decoded.id)) return decoded;
  } catch {
    // Falls through to the typed error below.
  }
  throw new ValidationError([{ field, message: 'is not a valid id' }]);
}

/** Decodes a global id that must be of one type, or names the bad field. */
export function idOf(globalId: string, typename: string, field: string): string {
  const decoded = parseGlobalId(globalId, field);
  if (decoded.typename !== typename) throw new ValidationError([{ field, message: `is not a ${typename} id` }]);
  return decoded.id;
}
