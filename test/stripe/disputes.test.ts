import { describe, expect, test } from 'vitest';
import { disputeAfter, type Dispute } from '../../src/domain/payments/disputes.js';
import type { PaymentEvent } from '../../src/domain/payments/provider.js';

const none: Dispute = { dispute: null, disputeId: null, disputeOpenedAt: null };
const at = (second: number) => new Date(second * 1000);
const event = (type: 'payment.charged_back' | 'payment.dispute_won' | 'payment.dispute_lost', id?: string, openedAt?: Date): PaymentEvent => ({
  eventId: 'evt',
  type,
  providerPaymentId: 'pi',
  ...(id ? { dispute: { id, openedAt: openedAt! } } : {}),
});

/** Every order of `events` from `start`, each applied where disputeAfter says so: the dispute each order ends with. */
function endings(start: Dispute, events: PaymentEvent[]): Dispute[] {
  if (events.length === 0) return [start];
  return events.flatMap((first, index) => endings(disputeAfter(start, first) ?? start, events.filter((_, other) => other !== index)));
}

describe("a payment's dispute", () => {
  test('opens once and closes once; a closure heard first stands', () => {
    const opened = disputeAfter(none, event('payment.charged_back', 'dp_1', at(100)))!;
    expect(opened).toEqual({ dispute: 'OPEN', disputeId: 'dp_1', disputeOpenedAt: at(100) });
    expect(disputeAfter(opened, event('payment.charged_back', 'dp_1', at(100)))).toBeNull();
    const won = disputeAfter(opened, event('payment.dispute_won', 'dp_1', at(100)))!;
    expect(won.dispute).toBe('WON');
    expect(disputeAfter(won, event('payment.dispute_lost', 'dp_1', at(100)))).toBeNull();
    expect(disputeAfter(won, event('payment.charged_back', 'dp_1', at(100)))).toBeNull();
  });

  test('the newest of several disputes is the payment’s, in whatever order their events arrive', () => {
    const events = [
      event('payment.charged_back', 'dp_inquiry', at(100)),
      event('payment.dispute_won', 'dp_inquiry', at(100)),
      event('payment.charged_back', 'dp_chargeback', at(200)),
      event('payment.dispute_lost', 'dp_chargeback', at(200)),
    ];
    const all = endings(none, events);
    expect(all).toHaveLength(24);
    for (const ending of all) expect(ending).toEqual({ dispute: 'LOST', disputeId: 'dp_chargeback', disputeOpenedAt: at(200) });
  });

  test('two disputes opened in the same second: the greater id is the newer, in every order', () => {
    const events = [event('payment.charged_back', 'dp_a', at(100)), event('payment.dispute_won', 'dp_a', at(100)), event('payment.charged_back', 'dp_b', at(100))];
    for (const ending of endings(none, events)) expect(ending).toMatchObject({ dispute: 'OPEN', disputeId: 'dp_b' });
  });

  test('a dispute the provider does not name, or one stored before disputes were named, is the same dispute', () => {
    const unnamed = disputeAfter(none, event('payment.charged_back'))!;
    expect(unnamed).toEqual({ dispute: 'OPEN', disputeId: null, disputeOpenedAt: null });
    expect(disputeAfter(unnamed, event('payment.charged_back'))).toBeNull();
    const storedBefore: Dispute = { dispute: 'OPEN', disputeId: null, disputeOpenedAt: null };
    expect(disputeAfter(storedBefore, event('payment.charged_back', 'dp_1', at(100)))).toBeNull();
    expect(disputeAfter(storedBefore, event('payment.dispute_won', 'dp_1', at(100)))).toEqual({ dispute: 'WON', disputeId: 'dp_1', disputeOpenedAt: at(100) });
  });
});
