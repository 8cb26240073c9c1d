import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conflictFromUniqueViolation, registerUser } from '../../src/lib/server/auth/service';
import { verifyPassword } from '../../src/lib/server/auth/password';
import { hashToken } from '../../src/lib/server/auth/tokens';
import { sessions, users } from '../../src/lib/server/db/schema';
import { ConflictError } from '../../src/lib/server/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser, TEST_PASSWORD } from '../support/factories';

const cfg = { SESSION_TTL_DAYS: 30 };
const client = { ipAddress: '203.0.113.7', userAgent: 'registration-test' };

function register(db: TestDatabase['db'], name: string, overrides: { email?: string; username?: string } = {}) {
	return registerUser(
		db,
		{ email: overrides.email ?? `${name}@example.test`, username: overrides.username ?? name, password: TEST_PASSWORD },
		client,
		cfg
	);
}

/** The rejection of a promise expected to fail (a value that is not an error fails the test). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => {
			throw new Error('expected a rejection');
		},
		(err: unknown) => err
	);
}

describe('the first account', () => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await createTestDatabase();
	});
	afterAll(async () => {
		await t.destroy();
	});

	it('becomes the admin, and later accounts plain users', async () => {
		const first = await register(t.db, 'first_one');
		const second = await register(t.db, 'second_one');
		expect(first.user.role).toBe('admin');
		expect(second.user.role).toBe('user');
	});
});

describe('ten registrations at once on an empty database', () => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await createTestDatabase();
	});
	afterAll(async () => {
		await t.destroy();
	});

	it('make exactly one admin', async () => {
		const results = await Promise.all(Array.from({ length: 10 }, (_, i) => register(t.db, `racer_${i}`)));
		expect(results.filter((r) => r.user.role === 'admin')).toHaveLength(1);
		const roles = await t.db.select({ role: users.role, n: sql<number>`count(*)::int` }).from(users).groupBy(users.role);
		expect(Object.fromEntries(roles.map((r) => [r.role, r.n]))).toEqual({ admin: 1, user: 9 });
	});
});

describe('registerUser', () => {
	let t: TestDatabase;
	beforeAll(async () => {
		t = await createTestDatabase();
		await makeUser(t.db); // the admin
	});
	afterAll(async () => {
		await t.destroy();
	});

	it('stores an argon2id hash, never the password, and opens a session for the client', async () => {
		const { user, session, token } = await register(t.db, 'hashed_one');
		const [row] = await t.db.select().from(users).where(eq(users.id, user.id));
		expect(row.passwordHash).toMatch(/^\$argon2id\$/);
		expect(row.passwordHash).not.toContain(TEST_PASSWORD);
		expect(await verifyPassword(row.passwordHash, TEST_PASSWORD)).toBe(true);
		expect(row.lastLoginAt).not.toBeNull();

		const [stored] = await t.db.select().from(sessions).where(eq(sessions.id, session.id));
		expect(stored).toMatchObject({ userId: user.id, tokenHash: hashToken(token), ipAddress: client.ipAddress, userAgent: client.userAgent });
	});

	it('trims the email and username it is given', async () => {
		const { user } = await registerUser(
			t.db,
			{ email: '  spaced@example.test ', username: ' spaced_name ', password: TEST_PASSWORD },
			client,
			cfg
		);
		expect(user).toMatchObject({ email: 'spaced@example.test', username: 'spaced_name' });
	});

	it('refuses an email in use, whatever its case, naming the field', async () => {
		await register(t.db, 'taken_email');
		const err = await rejectionOf(register(t.db, 'other_name', { email: 'TAKEN_EMAIL@Example.Test' }));
		expect(err).toBeInstanceOf(ConflictError);
		expect(err).toMatchObject({ status: 409, details: { fields: { email: [expect.any(String)] } } });
	});

	it('refuses a username in use, whatever its case, naming the field', async () => {
		await register(t.db, 'Taken_Name');
		const err = await rejectionOf(register(t.db, 'x', { email: 'fresh@example.test', username: 'tAKEN_nAME' }));
		expect(err).toBeInstanceOf(ConflictError);
		expect(err).toMatchObject({ details: { fields: { username: [expect.any(String)] } } });
	});

	it('names both fields when both are taken, and creates nothing', async () => {
		await register(t.db, 'both_taken');
		const before = await t.db.select({ n: sql<number>`count(*)::int` }).from(users);
		const err = await rejectionOf(register(t.db, 'BOTH_TAKEN'));
		expect(err).toMatchObject({ details: { fields: { email: [expect.any(String)], username: [expect.any(String)] } } });
		expect(await t.db.select({ n: sql<number>`count(*)::int` }).from(users)).toEqual(before);
	});

	it('lets exactly one of five simultaneous sign-ups with the same email (in different cases) through', async () => {
		const variants = ['race@example.test', 'RACE@example.test', 'Race@Example.test', 'race@EXAMPLE.TEST', 'rAcE@example.test'];
		const results = await Promise.allSettled(variants.map((email, i) => register(t.db, `race_${i}`, { email })));
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
		for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
	});

	it('turns a unique-index violation (the race the lock does not cover) into a ConflictError', async () => {
		const { user } = await makeUser(t.db);
		const err = await rejectionOf(
			t.db.insert(users).values({ email: user.email.toUpperCase(), username: 'direct_insert', passwordHash: 'x' })
		);
		const conflict = conflictFromUniqueViolation(err);
		expect(conflict).toBeInstanceOf(ConflictError);
		expect(conflict?.details).toEqual({ fields: { email: [expect.any(String)] } });

		const usernameErr = await rejectionOf(
			t.db.insert(users).values({ email: 'unique@example.test', username: user.username.toUpperCase(), passwordHash: 'x' })
		);
		expect(conflictFromUniqueViolation(usernameErr)?.details).toEqual({ fields: { username: [expect.any(String)] } });
		expect(conflictFromUniqueViolation(new Error('something else'))).toBeNull();
	});
});
