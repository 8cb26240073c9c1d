/**
 * Managing provider accounts. Admins see every account and manage any; users see the shared
 * accounts (read-only) and their own private ones, which they manage. Another user's private
 * account is simply not found. Credentials are encrypted here and never leave except to adapters
 * (through the pool).
 */
import { and, asc, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { CreateAccountInput, UpdateAccountInput } from '../../schemas/accounts';
import type { Config } from '../config';
import type { Db } from '../db/client';
import { providerAccounts, users, type ProviderAccount, type User } from '../db/schema';
import { ConflictError, ForbiddenError, NotFoundError, QuotaExceededError, ValidationError } from '../errors';
import { logger } from '../logger';
import { findProvider } from '../providers/registry';
import { effectiveQuotas } from '../users/quotas';
import { credentialsKey, encryptCredentials } from './crypto';
import { canManageAccount } from './json';

type Viewer = Pick<User, 'id' | 'role'>;

/** The accounts this viewer may see (admins: all). */
function visibleTo(viewer: Viewer): SQL | undefined {
	return viewer.role === 'admin' ? undefined : or(isNull(providerAccounts.ownerId), eq(providerAccounts.ownerId, viewer.id));
}

export async function listAccounts(db: Db, viewer: Viewer, filter: { providerId?: string } = {}): Promise<ProviderAccount[]> {
	return db
		.select()
		.from(providerAccounts)
		.where(and(visibleTo(viewer), filter.providerId ? eq(providerAccounts.providerId, filter.providerId) : undefined))
		.orderBy(asc(providerAccounts.providerId), sql`${providerAccounts.ownerId} is not null`, asc(sql`lower(${providerAccounts.label})`), asc(providerAccounts.id));
}

export async function getAccount(db: Db, viewer: Viewer, id: string): Promise<ProviderAccount> {
	const [row] = await db
		.select()
		.from(providerAccounts)
		.where(and(eq(providerAccounts.id, id), visibleTo(viewer)));
	if (!row) throw new NotFoundError('Account');
	return row;
}

/** The account if the viewer may change it: 404 if they cannot see it, 403 if they only see it. */
async function getManagedAccount(db: Db, viewer: Viewer, id: string): Promise<ProviderAccount> {
	const account = await getAccount(db, viewer, id);
	if (!canManageAccount(viewer, account)) throw new ForbiddenError('Only an administrator can change a shared account.');
	return account;
}

/**
 * Adds an account. Shared accounts are for admins; private ones count against the owner's
 * quota_provider_accounts, checked under a lock on the owner's row so concurrent creates cannot
 * pass the limit together.
 */
export async function createAccount(db: Db, config: Config, viewer: User, input: CreateAccountInput): Promise<ProviderAccount> {
	const provider = findProvider(input.provider_id);
	if (!provider) {
		throw new ValidationError('Some fields are not valid.', { provider_id: [`No provider "${input.provider_id}".`] });
	}
	if (!provider.requiresCredentials) {
		throw new ValidationError('Some fields are not valid.', {
			provider_id: [`${provider.label} runs without an account; it is always available.`]
		});
	}
	if (Object.keys(input.credentials).length === 0) {
		throw new ValidationError('Some fields are not valid.', { credentials: ['Enter the credentials for this account (e.g. api_key).'] });
	}
	if (input.shared && viewer.role !== 'admin') throw new ForbiddenError('Only an administrator can add a shared account.');

	const values = {
		providerId: provider.id,
		label: input.label,
		ownerId: input.shared ? null : viewer.id,
		credentialsEncrypted: encryptCredentials(credentialsKey(config), input.credentials),
		priority: input.priority,
		maxConcurrentJobs: input.max_concurrent_jobs,
		credits: input.credits
	};
	const account = await db.transaction(async (tx) => {
		if (!input.shared) {
			const [owner] = await tx.select().from(users).where(eq(users.id, viewer.id)).for('update');
			const limit = effectiveQuotas(owner, config).providerAccounts;
			const [{ count }] = await tx
				.select({ count: sql<number>`count(*)::int` })
				.from(providerAccounts)
				.where(eq(providerAccounts.ownerId, viewer.id));
			if (count >= limit) {
				throw new QuotaExceededError(`You can have at most ${limit} private provider accounts.`, 429, {
					quota: 'provider_accounts',
					limit
				});
			}
		}
		const [row] = await tx.insert(providerAccounts).values(values).returning();
		return row;
	});
	logger.info({ user_id: viewer.id, account_id: account.id, provider_id: account.providerId, shared: input.shared }, 'account:created');
	return account;
}

export async function updateAccount(db: Db, config: Config, viewer: Viewer, id: string, input: UpdateAccountInput): Promise<ProviderAccount> {
	await getManagedAccount(db, viewer, id);
	const changes: PgUpdateSetSource<typeof providerAccounts> = { updatedAt: new Date() };
	if (input.label !== undefined) changes.label = input.label;
	if (input.priority !== undefined) changes.priority = input.priority;
	if (input.max_concurrent_jobs !== undefined) changes.maxConcurrentJobs = input.max_concurrent_jobs;
	if (input.credentials !== undefined) {
		if (Object.keys(input.credentials).length === 0) {
			throw new ValidationError('Some fields are not valid.', { credentials: ['Enter at least one credential.'] });
		}
		changes.credentialsEncrypted = encryptCredentials(credentialsKey(config), input.credentials);
	}
	if (input.credits !== undefined) {
		changes.credits = input.credits;
		// New credits end an exhaustion we counted; an explicit status below still wins.
		if (input.credits === null || Object.values(input.credits).some((v) => v > 0)) {
			changes.status = sql`case when ${providerAccounts.status} = 'exhausted' then 'active'::provider_account_status else ${providerAccounts.status} end`;
		}
	}
	if (input.status === 'active') {
		// Enabling is the admin's word over a cooldown or exhaustion too.
		Object.assign(changes, { status: 'active', cooldownUntil: null, recentFailures: 0, recentFailuresSince: null });
	} else if (input.status === 'disabled') {
		changes.status = 'disabled';
	}
	// Counters (current_jobs, credits spent by running jobs) are not overwritten from a stale read:
	// this is one UPDATE of the fields named, on the row as it is now.
	const [row] = await db.update(providerAccounts).set(changes).where(eq(providerAccounts.id, id)).returning();
	if (!row) throw new NotFoundError('Account');
	logger.info({ user_id: viewer.id, account_id: id, fields: Object.keys(input) }, 'account:updated');
	return row;
}

/**
 * Deletes an account that runs no job: while current_jobs > 0 the answer is 409 (disable it, and
 * delete once its jobs finish). The check and the delete are one statement.
 */
export async function deleteAccount(db: Db, viewer: Viewer, id: string): Promise<void> {
	const account = await getManagedAccount(db, viewer, id);
	const deleted = await db
		.delete(providerAccounts)
		.where(and(eq(providerAccounts.id, id), eq(providerAccounts.currentJobs, 0)))
		.returning({ id: providerAccounts.id });
	if (deleted.length === 0) {
		const [still] = await db.select({ currentJobs: providerAccounts.currentJobs }).from(providerAccounts).where(eq(providerAccounts.id, id));
		if (!still) throw new NotFoundError('Account');
		throw new ConflictError(
			`This account is running ${still.currentJobs} job${still.currentJobs === 1 ? '' : 's'}. Disable it, and delete it once they finish.`
		);
	}
	logger.info({ user_id: viewer.id, account_id: id, provider_id: account.providerId }, 'account:deleted');
}
