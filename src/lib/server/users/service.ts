/** A user's own account, and the admin's view of all users. Role checks live here. */
import { count, desc, eq, ilike, or, and, ne, sql, type SQL } from 'drizzle-orm';

import type { Db, DbOrTx } from '../db/client';
import { sessions, users, type User } from '../db/schema';
import { assertAvailable, conflictFromUniqueViolation, type Principal } from '../auth/service';
import { hashPassword, verifyPassword } from '../auth/password';
import { revokeOtherSessions } from '../auth/sessions';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { effectiveQuotas, usageForDay, type DayUsage, type QuotaDefaults, type Quotas } from './quotas';

export interface Account {
	user: User;
	quotas: Quotas;
	usage: DayUsage;
}

/** The account view; pass today's usage when the request already read it with the session. */
export async function getAccount(
	db: DbOrTx,
	user: User,
	defaults: QuotaDefaults,
	usageToday?: DayUsage | null
): Promise<Account> {
	return { user, quotas: effectiveQuotas(user, defaults), usage: usageToday ?? (await usageForDay(db, user.id)) };
}

export async function updateOwnProfile(
	db: Db,
	principal: Principal,
	input: { username?: string; current_password?: string; new_password?: string }
): Promise<User> {
	const { user } = principal;
	const changes: Partial<typeof users.$inferInsert> = {};
	if (input.username !== undefined && input.username !== user.username) {
		await assertAvailable(db, { username: input.username }, user.id);
		changes.username = input.username;
	}
	if (input.new_password !== undefined) {
		if (!input.current_password || !(await verifyPassword(user.passwordHash, input.current_password))) {
			throw new ValidationError('Your current password is not correct.', {
				current_password: ['Your current password is not correct.']
			});
		}
		changes.passwordHash = await hashPassword(input.new_password);
	}
	if (Object.keys(changes).length === 0) return user;

	try {
		return await db.transaction(async (tx) => {
			const [updated] = await tx
				.update(users)
				.set({ ...changes, updatedAt: new Date() })
				.where(eq(users.id, user.id))
				.returning();
			// A new password ends every other session: whoever knew the old one is signed out.
			if (changes.passwordHash) await revokeOtherSessions(tx, user.id, principal.session?.id ?? null);
			return updated;
		});
	} catch (err) {
		throw conflictFromUniqueViolation(err) ?? err;
	}
}

function assertAdmin(actor: User): void {
	if (actor.role !== 'admin') throw new ForbiddenError('Only administrators can manage users.');
}

export interface UserPage {
	items: User[];
	page: number;
	perPage: number;
	total: number;
}

export async function listUsers(
	db: DbOrTx,
	actor: User,
	query: { page: number; per_page: number; q?: string }
): Promise<UserPage> {
	assertAdmin(actor);
	const pattern = query.q ? `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
	const where: SQL | undefined = pattern ? or(ilike(users.email, pattern), ilike(users.username, pattern)) : undefined;
	const [items, [{ total }]] = await Promise.all([
		db
			.select()
			.from(users)
			.where(where)
			.orderBy(desc(users.createdAt), desc(users.id))
			.limit(query.per_page)
			.offset((query.page - 1) * query.per_page),
		db.select({ total: count() }).from(users).where(where)
	]);
	return { items, page: query.page, perPage: query.per_page, total };
}

export interface AdminUserPatch {
	role?: 'user' | 'admin';
	is_active?: boolean;
	quotas?: { jobs_per_day?: number | null; storage_bytes?: number | null; provider_accounts?: number | null };
}

// Serialises the changes that can remove an active admin. Row locks alone deadlock when two admins
// demote each other at once (each holds its target and waits for the other's row).
const ADMIN_REMOVAL_LOCK = 7_000_013;

export async function updateUserAsAdmin(db: Db, actor: User, userId: string, patch: AdminUserPatch): Promise<User> {
	assertAdmin(actor);
	return db.transaction(async (tx) => {
		if (patch.role === 'user' || patch.is_active === false) {
			await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_REMOVAL_LOCK})`);
		}
		const [target] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
		if (!target) throw new NotFoundError('User');

		const losesAdmin =
			target.role === 'admin' && target.isActive && (patch.role === 'user' || patch.is_active === false);
		if (losesAdmin) {
			// Under the lock above, no other change can remove an admin before this one commits.
			const admins = await tx
				.select({ id: users.id })
				.from(users)
				.where(and(eq(users.role, 'admin'), eq(users.isActive, true), ne(users.id, target.id)))
				.for('update');
			if (admins.length === 0) throw new ConflictError('PixSim7 needs at least one active administrator.');
		}

		const changes: Partial<typeof users.$inferInsert> = { updatedAt: new Date() };
		if (patch.role !== undefined) changes.role = patch.role;
		if (patch.is_active !== undefined) changes.isActive = patch.is_active;
		if (patch.quotas) {
			if (patch.quotas.jobs_per_day !== undefined) changes.quotaJobsPerDay = patch.quotas.jobs_per_day;
			if (patch.quotas.storage_bytes !== undefined) changes.quotaStorageBytes = patch.quotas.storage_bytes;
			if (patch.quotas.provider_accounts !== undefined) changes.quotaProviderAccounts = patch.quotas.provider_accounts;
		}
		const [updated] = await tx.update(users).set(changes).where(eq(users.id, userId)).returning();
		// A deactivated user is signed out everywhere at once, not at their next request.
		if (patch.is_active === false) await tx.delete(sessions).where(eq(sessions.userId, userId));
		return updated;
	});
}

export function quotaOverrides(user: User) {
	return {
		jobs_per_day: user.quotaJobsPerDay,
		storage_bytes: user.quotaStorageBytes,
		provider_accounts: user.quotaProviderAccounts
	};
}

export async function countUsers(db: DbOrTx): Promise<number> {
	const [{ n }] = await db.select({ n: sql<number>`count(*)::int` }).from(users);
	return n;
}

