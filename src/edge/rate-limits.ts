import { BlockList, isIP } from 'node:net';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../domain/errors.js';
import type { Logger } from '../logger.js';

/** One limit: this many within this many seconds (RATE_LIMIT_* variables, "points/seconds"). */
export type Limit = { points: number; seconds: number };

export type RateLimitConfig = {
  /** Profiles created (register, completeProfile) per client IP. */
  profiles: Limit;
  /** Mutations per signed-in account. */
  mutations: Limit;
  /** graphql-ws connections opened per client IP. */
  connections: Limit;
  /** Subscriptions started per client IP, over graphql-ws and SSE. */
  subscriptions: Limit;
};

export type LimitName = keyof RateLimitConfig;

export type RateLimits = {
  /** Counts one against `key` under the limit; past it, a RateLimitedError saying when to retry. */
  consume(name: LimitName, key: string): Promise<void>;
  close(): Promise<void>;
};

/**
 * Limits kept by rate-limiter-flexible: in memory on one instance, in Redis (one count for every instance)
 * with REDIS_URL. Should Redis fail, each instance falls back to counting in its own memory rather than
 * refuse everyone or no one.
 */
export function createRateLimits(config: RateLimitConfig, redisUrl: string | undefined, log: Logger): RateLimits {
  const redis = redisUrl ? new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', (error) => log.warn({ err: error }, 'redis connection error (rate limits)'));
  const limiters = Object.fromEntries(
    (Object.entries(config) as [LimitName, Limit][]).map(([name, { points, seconds }]) => {
      const memory = new RateLimiterMemory({ points, duration: seconds, keyPrefix: `ovation-${name}` });
      const limiter: RateLimiterAbstract = redis
        ? new RateLimiterRedis({ storeClient: redis, points, duration: seconds, keyPrefix: `ovation-rl-${name}`, insuranceLimiter: memory })
        : memory;
      return [name, limiter];
    }),
  ) as Record<LimitName, RateLimiterAbstract>;
  return {
    async consume(name, key) {
      try {
        await limiters[name].consume(key);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw new RateLimitedError(name, Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
        throw error;
      }
    },
    async close() {
      await redis?.quit().catch(() => {});
    },
  };
}

/**
 * The client's address: the connection's own, or, when that is a proxy TRUST_PROXY names, the address
 * that proxy saw (X-Forwarded-For, read from the right, past every trusted proxy). Without TRUST_PROXY the
 * header is ignored: anyone can write it.
 */
export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | string[] | null | undefined, trusted: BlockList | undefined): string {
  let address = normalize(remoteAddress ?? 'unknown');
  if (!trusted || !forwardedFor) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  while (hops.length && isTrusted(trusted, address)) address = normalize(hops.pop()!);
  return address;
}

const normalize = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** TRUST_PROXY: comma-separated addresses or CIDR ranges of the proxies in front of Ovation. */
export function trustedProxies(entries: string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, Number(bits), family);
  }
  return list;
}
