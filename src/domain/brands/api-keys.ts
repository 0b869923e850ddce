import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * A brand's API key: `ovbk_` (Ovation brand key), 32 random base62 characters, then 6 base62 characters
 * of the CRC-32 of the random part. The prefix lets secret scanners find a leaked key, and the checksum
 * lets them (and this server, before any database read) tell a real key from a lookalike, as GitHub's
 * `ghp_` tokens do. 32 base62 characters are 190 bits of randomness, so the key is stored as its plain
 * SHA-256 (no slow hash needed) and looked up by it. docs/brands.md.
 */
export const API_KEY_PREFIX = 'ovbk_';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** How much of a key is kept to tell keys apart: the prefix and 8 random characters. */
const DISPLAY_LENGTH = API_KEY_PREFIX.length + 8;
const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(value: number, length: number): string {
  let text = '';
  for (let rest = value; text.length < length; rest = Math.floor(rest / 62)) text = BASE62[rest % 62]! + text;
  return text;
}

const checksum = (random: string) => base62(crc32(random), CHECKSUM_LENGTH);

export type NewApiKey = { secret: string; displayPrefix: string; secretHash: string };

/** A fresh key: the secret (shown once), what identifies it for people, and what is stored. */
export function generateApiKey(): NewApiKey {
  let random = '';
  while (random.length < RANDOM_LENGTH) random += BASE62[randomInt(62)];
  const secret = `${API_KEY_PREFIX}${random}${checksum(random)}`;
  return { secret, displayPrefix: secret.slice(0, DISPLAY_LENGTH), secretHash: hashApiKey(secret) };
}

/** Whether a string is shaped like a key and its checksum holds (no database read needed). */
export function isWellFormedApiKey(candidate: string): boolean {
  if (!KEY_PATTERN.test(candidate)) return false;
  const random = candidate.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + RANDOM_LENGTH);
  return candidate.endsWith(checksum(random));
}

/** Whether a bearer credential is meant to be a brand key (rather than a person's token). */
export const looksLikeApiKey = (credential: string) => credential.startsWith(API_KEY_PREFIX);

export const hashApiKey = (secret: string) => createHash('sha256').update(secret).digest('hex');
