import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/lib/server/auth/password';
import { createApiToken } from '../../src/lib/server/auth/api-tokens';
import { authenticateBearer, type Principal } from '../../src/lib/server/auth/service';
import { createSession, listSessions, validateSessionToken } from '../../src/lib/server/auth/sessions';
import { dailyUsage, sessions, users, type User } from '../../src/lib/server/db/schema';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/lib/server/errors';
import { getAccount, listUsers, updateOwnProfile, updateUserAsAdmin } from '../../src/lib/server/users/service';
import { utcDay } from '../../src/lib/server/users/quotas';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

const cfg = { SESSION_TTL_DAYS: 30 };
const defaults = { QUOTA_JOBS_PER_DAY: 200, QUOTA_STORAGE_BYTES: 1_000_000, QUOTA_PROVIDER_ACCOUNTS: 5 };

let t: TestDatabase;
let admin: User;
beforeAll(async () => {
	t = await createTestDatabase();
	admin = (await makeUser(t.db)).user;
	expect(admin.role).toBe('admin');
});
afterAll(async () => {
	await t.destroy();
});

/** The principal behind a session token, as the hooks would build it. */
async function principalOf(token: string): Promise<Principal> {
	const principal = await authenticateBearer(t.db, token, cfg);
	if (!principal) throw new Error('token does not authenticate');
	return principal;
}

async function reload(id: string): Promise<User> {
	const [user] = await t.db.select().from(users).where(eq(users.id, id));
	return user;
}

describe('getAccount', () => {
	it('answers effective quotas (override before default) and today’s usage', async () => {
		const { user } = await makeUser(t.db);
		await t.db.update(users).set({ quotaJobsPerDay: 3 }).where(eq(users.id, user.id));
		await t.db.insert(dailyUsage).values({ userId: user.id, day: utcDay(), jobsCreated: 2 });
		const account = await getAccount(t.db, await reload(user.id), defaults);
		expect(account.quotas).toEqual({ jobsPerDay: 3, storageBytes: 1_000_000, providerAccounts: 5 });
		expect(account.usage).toMatchObject({ day: utcDay(), jobsCreated: 2, assetsCreated: 0 });
	});
});

describe('updateOwnProfile', () => {
	it('changes the username, and keeps a case-only change of one’s own name possible', async () => {
		const { user, token } = await makeUser(t.db, { username: `renamer_${Date.now()}` });
		const renamed = await updateOwnProfile(t.db, await principalOf(token), { username: `${user.username}_new` });
		expect(renamed.username).toBe(`${user.username}_new`);
		const recased = await updateOwnProfile(t.db, await principalOf(token), { username: renamed.username.toUpperCase() });
		expect(recased.username).toBe(renamed.username.toUpperCase());
	});

	it('refuses a username someone else has, whatever its case', async () => {
		const { token } = await makeUser(t.db);
		const other = await makeUser(t.db);
		const attempt = updateOwnProfile(t.db, await principalOf(token), { username: other.user.username.toUpperCase() });
		await expect(attempt).rejects.toBeInstanceOf(ConflictError);
		await expect(attempt).rejects.toMatchObject({ details: { fields: { username: [expect.any(String)] } } });
	});

	it('requires the correct current password for a new one', async () => {
		const { user, token } = await makeUser(t.db);
		const principal = await principalOf(token);
		for (const current_password of [undefined, '', 'wrong password']) {
			const attempt = updateOwnProfile(t.db, principal, { current_password, new_password: 'brand new password' });
			await expect(attempt).rejects.toBeInstanceOf(ValidationError);
			await expect(attempt).rejects.toMatchObject({ details: { fields: { current_password: [expect.any(String)] } } });
		}
		expect(await verifyPassword((await reload(user.id)).passwordHash, 'brand new password')).toBe(false);
	});

	it('changes the password and ends the other sessions, not the current one', async () => {
		const { user, token, password } = await makeUser(t.db);
		const other = await createSession(t.db, user.id, {}, 30);
		const principal = await principalOf(token);
		await updateOwnProfile(t.db, principal, { current_password: password, new_password: 'brand new password' });

		const stored = await reload(user.id);
		expect(await verifyPassword(stored.passwordHash, 'brand new password')).toBe(true);
		expect(await verifyPassword(stored.passwordHash, password)).toBe(false);
		expect(await validateSessionToken(t.db, token, 30)).not.toBeNull();
		expect(await validateSessionToken(t.db, other.token, 30)).toBeNull();
		expect((await listSessions(t.db, user.id)).map((s) => s.id)).toEqual([principal.session?.id]);
	});

	it('changed through an API token, ends every session', async () => {
		const { user, token, password } = await makeUser(t.db);
		const { token: apiToken } = await createApiToken(t.db, user.id, { name: 'script' });
		await updateOwnProfile(t.db, await principalOf(apiToken), { current_password: password, new_password: 'brand new password' });
		expect(await validateSessionToken(t.db, token, 30)).toBeNull();
		expect(await listSessions(t.db, user.id)).toEqual([]);
	});

	it('with nothing to change, changes nothing', async () => {
		const { user, token } = await makeUser(t.db);
		const same = await updateOwnProfile(t.db, await principalOf(token), { username: user.username });
		expect(same.updatedAt.getTime()).toBe(user.updatedAt.getTime());
	});
});

describe('listUsers', () => {
	let own: TestDatabase;
	let ownAdmin: User;
	let members: User[];
	beforeAll(async () => {
		own = await createTestDatabase();
		ownAdmin = (await makeUser(own.db, { username: 'boss_person', email: 'boss@example.test' })).user;
		members = [];
		for (const name of ['alice_w', 'bob_builder', 'carol_50%', 'dave_x', 'erin_y']) {
			members.push((await makeUser(own.db, { username: name, email: `${name.replace('%', '')}@Mail.example` })).user);
		}
	});
	afterAll(async () => {
		await own.destroy();
	});

	it('pages newest first, with the total', async () => {
		const everyone = [ownAdmin, ...members].reverse().map((u) => u.id);
		const page1 = await listUsers(own.db, ownAdmin, { page: 1, per_page: 4 });
		expect(page1).toMatchObject({ page: 1, perPage: 4, total: 6 });
		expect(page1.items.map((u) => u.id)).toEqual(everyone.slice(0, 4));
		const page2 = await listUsers(own.db, ownAdmin, { page: 2, per_page: 4 });
		expect(page2.items.map((u) => u.id)).toEqual(everyone.slice(4));
		expect((await listUsers(own.db, ownAdmin, { page: 3, per_page: 4 })).items).toEqual([]);
	});

	it('filters by a case-insensitive fragment of email or username, counting only matches', async () => {
		const byName = await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: 'BOB' });
		expect(byName.items.map((u) => u.username)).toEqual(['bob_builder']);
		expect(byName.total).toBe(1);
		const byEmail = await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: 'mail.EXAMPLE' });
		expect(byEmail.total).toBe(5);
		expect(byEmail.items).toHaveLength(5);
	});

	it('takes %, _ and \\ in q literally', async () => {
		expect((await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: '50%' })).items.map((u) => u.username)).toEqual(['carol_50%']);
		expect((await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: '%' })).total).toBe(1);
		// As a wildcard, '_' would let 'ali_e' match alice.
		expect((await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: 'ali_e' })).total).toBe(0);
		expect((await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: 'e_w' })).items.map((u) => u.username)).toEqual(['alice_w']);
		expect((await listUsers(own.db, ownAdmin, { page: 1, per_page: 10, q: '\\' })).total).toBe(0);
	});

	it('is for admins only', async () => {
		await expect(listUsers(own.db, members[0], { page: 1, per_page: 10 })).rejects.toBeInstanceOf(ForbiddenError);
	});
});

describe('updateUserAsAdmin', () => {
	it('changes role and quotas; null returns a quota to the default', async () => {
		const { user } = await makeUser(t.db);
		const promoted = await updateUserAsAdmin(t.db, admin, user.id, { role: 'admin', quotas: { jobs_per_day: 10, storage_bytes: 0 } });
		expect(promoted).toMatchObject({ role: 'admin', quotaJobsPerDay: 10, quotaStorageBytes: 0, quotaProviderAccounts: null });
		const reset = await updateUserAsAdmin(t.db, admin, user.id, { role: 'user', quotas: { jobs_per_day: null } });
		expect(reset).toMatchObject({ role: 'user', quotaJobsPerDay: null, quotaStorageBytes: 0 });
		expect(reset.updatedAt.getTime()).toBeGreaterThanOrEqual(user.updatedAt.getTime());
	});

	it('is Forbidden to a non-admin, and changes nothing', async () => {
		const { user } = await makeUser(t.db);
		const victim = await makeUser(t.db);
		await expect(updateUserAsAdmin(t.db, user, victim.user.id, { is_active: false })).rejects.toBeInstanceOf(ForbiddenError);
		await expect(updateUserAsAdmin(t.db, user, user.id, { role: 'admin' })).rejects.toBeInstanceOf(ForbiddenError);
		expect((await reload(victim.user.id)).isActive).toBe(true);
		expect((await reload(user.id)).role).toBe('user');
	});

	it('answers NotFound for an unknown user', async () => {
		await expect(updateUserAsAdmin(t.db, admin, '00000000-0000-4000-8000-000000000000', { role: 'user' })).rejects.toBeInstanceOf(NotFoundError);
	});

	it('deactivating a user deletes their sessions at once', async () => {
		const { user, token } = await makeUser(t.db);
		await createSession(t.db, user.id, {}, 30);
		await updateUserAsAdmin(t.db, admin, user.id, { is_active: false });
		expect(await t.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
		expect(await validateSessionToken(t.db, token, 30)).toBeNull();
		// Other changes do not sign anyone out.
		const other = await makeUser(t.db);
		await updateUserAsAdmin(t.db, admin, other.user.id, { quotas: { provider_accounts: 1 } });
		expect(await validateSessionToken(t.db, other.token, 30)).not.toBeNull();
	});
});

describe('the last active admin', () => {
	let own: TestDatabase;
	let first: User;
	beforeEach(async () => {
		own = await createTestDatabase();
		first = (await makeUser(own.db)).user;
	});
	afterEach(async () => {
		await own.destroy();
	});

	it('cannot be demoted or deactivated, even by themselves', async () => {
		await expect(updateUserAsAdmin(own.db, first, first.id, { role: 'user' })).rejects.toBeInstanceOf(ConflictError);
		await expect(updateUserAsAdmin(own.db, first, first.id, { is_active: false })).rejects.toBeInstanceOf(ConflictError);
		expect(await updateUserAsAdmin(own.db, first, first.id, { role: 'admin', quotas: { jobs_per_day: 1 } })).toMatchObject({ role: 'admin' });
	});

	it('is counted among active admins only: an inactive admin does not count', async () => {
		const second = (await makeUser(own.db, { role: 'admin' })).user;
		await updateUserAsAdmin(own.db, first, second.id, { is_active: false });
		await expect(updateUserAsAdmin(own.db, first, first.id, { role: 'user' })).rejects.toBeInstanceOf(ConflictError);
		// The inactive admin may be demoted: that loses no active admin.
		expect((await updateUserAsAdmin(own.db, first, second.id, { role: 'user' })).role).toBe('user');
	});

	// Without serialisation these races deadlock in most rounds (PostgreSQL aborts one: a 500).
	for (const [what, patch] of [
		['demoting', { role: 'user' }],
		['deactivating', { is_active: false }]
	] as const) {
		it(`survives two admins ${what} each other at the same moment: one wins, the other gets a Conflict`, async () => {
			const second = (await makeUser(own.db, { role: 'admin' })).user;
			for (let round = 0; round < 10; round++) {
				await own.db.update(users).set({ role: 'admin', isActive: true });
				const results = await Promise.allSettled([
					updateUserAsAdmin(own.db, first, second.id, patch),
					updateUserAsAdmin(own.db, second, first.id, patch)
				]);
				expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
				for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
				const activeAdmins = await own.db.select().from(users).where(and(eq(users.role, 'admin'), eq(users.isActive, true)));
				expect(activeAdmins).toHaveLength(1);
			}
		});
	}
});
