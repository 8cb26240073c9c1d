/**
 * Pixverse's ErrCodes → our failure classes (table in /work/shared/providers/pixverse.md).
 */
import { z } from 'zod';
import { ProviderError, type ProviderErrorClass } from '../types';

type Rule = { cls: ProviderErrorClass; exhausted?: true; staleUpload?: true; refunded?: true };

const errCodes: Record<number, Rule> = {
	400013: { cls: 'request' }, // bad parameter binding
	400017: { cls: 'request' }, // invalid parameter
	400018: { cls: 'request' }, // prompt too long
	400032: { cls: 'request', staleUpload: true }, // invalid image id: maybe our cached upload went stale
	500030: { cls: 'request' }, // image too large
	500054: { cls: 'request' }, // content moderation
	500063: { cls: 'request' }, // content moderation
	500044: { cls: 'account' }, // concurrency limit reached on this account
	500090: { cls: 'account', exhausted: true }, // insufficient balance
	500069: { cls: 'transient' }, // provider under high load
	// Not in the documented table: the answer to a missing or wrong API-KEY (Pixverse's 10xxx
	// family). An account problem, so the pool cools the account down and tries another.
	10001: { cls: 'account' },
	10002: { cls: 'account' },
	10003: { cls: 'account' },
	10004: { cls: 'account' },
	10005: { cls: 'account' }
};

/**
 * The error for an envelope whose ErrCode is not 0. An ErrCode we do not know is transient: it is
 * as likely a new overload or outage code as a new input check, and a transient failure is retried
 * a bounded number of times and then fails the job, while a wrong "request" guess would fail the
 * user's job at once for the provider's hiccup.
 */
export function errCodeError(code: number, message: string, response: unknown): ProviderError {
	const rule = errCodes[code] ?? { cls: 'transient' };
	const { cls, ...flags } = rule;
	return new ProviderError(cls, `Pixverse ${code}: ${message || 'no message'}`, { code, ...flags, response });
}

/**
 * Anything thrown while talking to Pixverse → its class: ours keep theirs; params that no longer
 * pass the schema (mapParameters re-parses them) are the request's fault; the rest is the network.
 */
export function classifyPixverseError(err: unknown): ProviderErrorClass {
	if (err instanceof ProviderError) return err.cls;
	if (err instanceof z.ZodError) return 'request';
	return 'transient';
}
