import type { Database } from '../db/client.js';
import { Asset } from '../generated/prisma/client.js';

export type Balances = { coins: bigint; diamonds: bigint };

/** A user's balances: what their accounts hold (a negative coin balance is a chargeback debt). */
export async function balancesOf(db: Database, userId: string): Promise<Balances> {
  const accounts = await db.account.findMany({ where: { userId }, select: { asset: true, balance: true } });
  const of = (asset: Asset) => accounts.find((account) => account.asset === asset)?.balance ?? 0n;
  return { coins: of(Asset.COIN), diamonds: of(Asset.DIAMOND) };
}
