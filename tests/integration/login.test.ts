import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loginUser, LoginLimiter } from '../../src/lib/server/auth/service';
import { verifyAgainstDummy } from '../../src/lib/server/auth/password';
import { sessions, users } from '../../src/lib/server/db/schema';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../../src/lib/server/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

// The real function, watched: the unknown-email path must spend a real hash verification.
vi.mock('../../src/lib/server/auth/password', async (importOriginal) => {
	const original = await importOriginal<typeof import('../../src/lib/server/auth/password')>();
	return { ...original, verifyAgainstDummy: vi.fn(original.verifyAgainstDummy) };
});

const cfg = { SESSION_TTL_DAYS: 30 };
const generous = () => new LoginLimiter({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: 100, LOGIN_MAX_ATTEMPTS_PER_IP: 100, LOGIN_WINDOW_SECONDS: 60 });
const from = (ipAddress: string) => ({ ipAddress, userAgent: 'login-test' });

let t: TestDatabase;
beforeAll(async () => {
	t = await createTestDatabase();
	await makeUser(t.db); // the admin
});
afterAll(async () => {
	await t.destroy();
});
beforeEach(() => {
	vi.mocked(verifyAgainstDummy).mockClear();
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => {
			throw new Error('expected a rejection');
		},
		(err: unknown) => err
	);
}

describe('loginUser', () => {
	it('signs in with the right password: a new session, last_login_at set', async () => {
		const { user, password } = await makeUser(t.db);
		const before = Date.now();
		const signedIn = await loginUser(t.db, { email: user.email, password }, from('198.51.100.1'), cfg, generous());
		expect(signedIn.user.id).toBe(user.id);
		expect(signedIn.token).toMatch(/^[a-z2-7]{32}$/);
		expect(signedIn.session).toMatchObject({ userId: user.id, ipAddress: '198.51.100.1', userAgent: 'login-test' });
		const [row] = await t.db.select().from(users).where(eq(users.id, user.id));
		expect(row.lastLoginAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
		expect(verifyAgainstDummy).not.toHaveBeenCalled();
	});

	it('matches the email case-insensitively and ignores surrounding spaces', async () => {
		const { user, password } = await makeUser(t.db);
		const signedIn = await loginUser(t.db, { email: `  ${user.email.toUpperCase()}  `, password }, from('198.51.100.2'), cfg, generous());
		expect(signedIn.user.id).toBe(user.id);
	});

	it('answers the same Unauthorized error for a wrong password and an unknown email', async () => {
		const { user } = await makeUser(t.db);
		const wrongPassword = await rejectionOf(loginUser(t.db, { email: user.email, password: 'not it at all' }, from('198.51.100.3'), cfg, generous()));
		const unknownEmail = await rejectionOf(loginUser(t.db, { email: 'nobody@example.test', password: 'not it at all' }, from('198.51.100.3'), cfg, generous()));
		expect(wrongPassword).toBeInstanceOf(UnauthorizedError);
		expect(unknownEmail).toBeInstanceOf(UnauthorizedError);
		expect((unknownEmail as UnauthorizedError).message).toBe((wrongPassword as UnauthorizedError).message);
	});

	it('verifies against a dummy hash for an unknown email, so timing does not tell', async () => {
		const started = performance.now();
		await rejectionOf(loginUser(t.db, { email: 'ghost@example.test', password: 'guess-123' }, from('198.51.100.4'), cfg, generous()));
		const elapsed = performance.now() - started;
		expect(verifyAgainstDummy).toHaveBeenCalledExactlyOnceWith('guess-123');
		// An argon2id verification at 19 MiB takes milliseconds, not microseconds.
		expect(elapsed).toBeGreaterThan(5);

		const { user } = await makeUser(t.db);
		vi.mocked(verifyAgainstDummy).mockClear();
		await rejectionOf(loginUser(t.db, { email: user.email, password: 'guess-123' }, from('198.51.100.4'), cfg, generous()));
		expect(verifyAgainstDummy).not.toHaveBeenCalled();
	});

	it('refuses an inactive user with the right password (Forbidden) and creates no session', async () => {
		const { user, password } = await makeUser(t.db);
		await t.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
		await t.db.delete(sessions).where(eq(sessions.userId, user.id));

		const err = await rejectionOf(loginUser(t.db, { email: user.email, password }, from('198.51.100.5'), cfg, generous()));
		expect(err).toBeInstanceOf(ForbiddenError);
		// Without the password nobody learns the account is disabled.
		const guess = await rejectionOf(loginUser(t.db, { email: user.email, password: 'wrong guess' }, from('198.51.100.5'), cfg, generous()));
		expect(guess).toBeInstanceOf(UnauthorizedError);
		expect(await t.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
	});
});

describe('sign-in limits', () => {
	const small = () => new LoginLimiter({ LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: 3, LOGIN_MAX_ATTEMPTS_PER_IP: 5, LOGIN_WINDOW_SECONDS: 60 });

	it('limits attempts per account, from any address, even with the right password', async () => {
		const limiter = small();
		const { user, password } = await makeUser(t.db);
		for (let i = 0; i < 3; i++) {
			expect(await rejectionOf(loginUser(t.db, { email: user.email, password: 'wrong' }, from(`192.0.2.${i}`), cfg, limiter))).toBeInstanceOf(UnauthorizedError);
		}
		const err = await rejectionOf(loginUser(t.db, { email: user.email.toUpperCase(), password }, from('192.0.2.99'), cfg, limiter));
		expect(err).toBeInstanceOf(RateLimitedError);
		const limited = err as RateLimitedError;
		expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
		expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
		expect(limited).toMatchObject({ status: 429, code: 'rate_limited', details: { retry_after_seconds: limited.retryAfterSeconds } });

		// Another account is not affected.
		const other = await makeUser(t.db);
		expect((await loginUser(t.db, { email: other.user.email, password: other.password }, from('192.0.2.98'), cfg, limiter)).user.id).toBe(other.user.id);
	});

	it('limits attempts per IP address, across accounts', async () => {
		const limiter = small();
		const { user, password } = await makeUser(t.db);
		for (let i = 0; i < 5; i++) {
			await rejectionOf(loginUser(t.db, { email: `probe${i}@example.test`, password: 'wrong' }, from('192.0.2.200'), cfg, limiter));
		}
		expect(await rejectionOf(loginUser(t.db, { email: user.email, password }, from('192.0.2.200'), cfg, limiter))).toBeInstanceOf(RateLimitedError);
		expect((await loginUser(t.db, { email: user.email, password }, from('192.0.2.201'), cfg, limiter)).user.id).toBe(user.id);
	});

	it('does not even look the account up once limited', async () => {
		const limiter = small();
		for (let i = 0; i < 3; i++) await rejectionOf(loginUser(t.db, { email: 'limited-ghost@example.test', password: 'x' }, from('192.0.2.50'), cfg, limiter));
		vi.mocked(verifyAgainstDummy).mockClear();
		expect(await rejectionOf(loginUser(t.db, { email: 'limited-ghost@example.test', password: 'x' }, from('192.0.2.51'), cfg, limiter))).toBeInstanceOf(RateLimitedError);
		expect(verifyAgainstDummy).not.toHaveBeenCalled();
	});

	it('forgets an account’s failures after a successful sign-in, but not the address’s', async () => {
		const limiter = small();
		const { user, password } = await makeUser(t.db);
		const ip = '192.0.2.150';
		await rejectionOf(loginUser(t.db, { email: user.email, password: 'wrong' }, from(ip), cfg, limiter));
		await rejectionOf(loginUser(t.db, { email: user.email, password: 'wrong' }, from(ip), cfg, limiter));
		await loginUser(t.db, { email: user.email, password }, from(ip), cfg, limiter);
		// Account counter back at zero: two more failures are still plain failures...
		expect(await rejectionOf(loginUser(t.db, { email: user.email, password: 'wrong' }, from(ip), cfg, limiter))).toBeInstanceOf(UnauthorizedError);
		expect(await rejectionOf(loginUser(t.db, { email: user.email, password: 'wrong' }, from(ip), cfg, limiter))).toBeInstanceOf(UnauthorizedError);
		// ...but that was the address's fifth attempt, and the sixth is refused.
		expect(await rejectionOf(loginUser(t.db, { email: user.email, password }, from(ip), cfg, limiter))).toBeInstanceOf(RateLimitedError);
	});
});
