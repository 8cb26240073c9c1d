/**
 * Registration, sign-in and token authentication: the rules that sit on top of sessions, API
 * tokens and password hashing.
 */
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { uniqueViolation } from '../db/errors';
import { users, type ApiToken, type Session, type User } from '../db/schema';
import { ConflictError, ForbiddenError, RateLimitedError, UnauthorizedError, type FieldErrors } from '../errors';
import { validateApiToken } from './api-tokens';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password';
import { AttemptLimiter } from './rate-limit';
import { createSession, validateSessionToken, type ClientInfo } from './sessions';
import { API_TOKEN_PREFIX } from './tokens';
import type { DayUsage } from '../users/quotas';

// Serialises registrations so exactly one "first user" becomes admin.
const REGISTRATION_LOCK = 7_000_011;

export interface Principal {
	user: User;
	/** The session behind the request (cookie or bearer), null for API tokens. */
	session: Session | null;
	apiToken: ApiToken | null;
}

export interface SignedIn {
	user: User;
	session: Session;
	token: string;
}

export async function registerUser(
	db: Db,
	input: { email: string; username: string; password: string },
	client: ClientInfo,
	cfg: Pick<Config, 'SESSION_TTL_DAYS'>
): Promise<SignedIn> {
	const email = input.email.trim();
	const username = input.username.trim();
	const passwordHash = await hashPassword(input.password);
	try {
		return await db.transaction(async (tx) => {
			await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRATION_LOCK})`);
			await assertAvailable(tx, { email, username });
			const [{ count }] = await tx.select({ count: sql<number>`count(*)::int` }).from(users);
			const [user] = await tx
				.insert(users)
				.values({ email, username, passwordHash, role: count === 0 ? 'admin' : 'user', lastLoginAt: new Date() })
				.returning();
			const { token, session } = await createSession(tx, user.id, client, cfg.SESSION_TTL_DAYS);
			return { user, session, token };
		});
	} catch (err) {
		throw conflictFromUniqueViolation(err) ?? err;
	}
}

/** Throws a ConflictError naming each field whose value another user already has. */
export async function assertAvailable(
	db: DbOrTx,
	wanted: { email?: string; username?: string },
	exceptUserId?: string
): Promise<void> {
	const fields: FieldErrors = {};
	if (wanted.email) {
		const [hit] = await db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = lower(${wanted.email})`);
		if (hit && hit.id !== exceptUserId) fields.email = ['An account with this email already exists.'];
	}
	if (wanted.username) {
		const [hit] = await db
			.select({ id: users.id })
			.from(users)
			.where(sql`lower(${users.username}) = lower(${wanted.username})`);
		if (hit && hit.id !== exceptUserId) fields.username = ['This username is taken.'];
	}
	if (Object.keys(fields).length) throw new ConflictError('Some details are already in use.', fields);
}

export function conflictFromUniqueViolation(err: unknown): ConflictError | null {
	const constraint = uniqueViolation(err);
	if (constraint === null) return null;
	if (constraint.includes('email')) return new ConflictError('Some details are already in use.', { email: ['An account with this email already exists.'] });
	if (constraint.includes('username')) return new ConflictError('Some details are already in use.', { username: ['This username is taken.'] });
	return new ConflictError('That already exists.');
}

/** Per-account and per-IP counters of sign-in attempts, one pair per web process. */
export class LoginLimiter {
	readonly byAccount: AttemptLimiter;
	readonly byIp: AttemptLimiter;
	constructor(cfg: Pick<Config, 'LOGIN_MAX_ATTEMPTS_PER_ACCOUNT' | 'LOGIN_MAX_ATTEMPTS_PER_IP' | 'LOGIN_WINDOW_SECONDS'>) {
		const windowMs = cfg.LOGIN_WINDOW_SECONDS * 1000;
		this.byAccount = new AttemptLimiter(cfg.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT, windowMs);
		this.byIp = new AttemptLimiter(cfg.LOGIN_MAX_ATTEMPTS_PER_IP, windowMs);
	}
}

const INVALID_CREDENTIALS = 'Invalid email or password.';

export async function loginUser(
	db: Db,
	input: { email: string; password: string },
	client: ClientInfo,
	cfg: Pick<Config, 'SESSION_TTL_DAYS'>,
	limiter: LoginLimiter
): Promise<SignedIn> {
	const accountKey = input.email.trim().toLowerCase();
	const wait = Math.max(limiter.byIp.consume(client.ipAddress ?? 'unknown'), limiter.byAccount.consume(accountKey));
	if (wait > 0) throw new RateLimitedError(wait);

	const [user] = await db.select().from(users).where(sql`lower(${users.email}) = ${accountKey}`).limit(1);
	if (!user) {
		await verifyAgainstDummy(input.password);
		throw new UnauthorizedError(INVALID_CREDENTIALS);
	}
	if (!(await verifyPassword(user.passwordHash, input.password))) throw new UnauthorizedError(INVALID_CREDENTIALS);
	// Said only to someone who knows the password, so it reveals nothing to a guesser.
	if (!user.isActive) throw new ForbiddenError('This account is disabled. Ask an administrator to enable it.');

	limiter.byAccount.reset(accountKey);
	const now = new Date();
	await db.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id));
	const { token, session } = await createSession(db, user.id, client, cfg.SESSION_TTL_DAYS);
	return { user: { ...user, lastLoginAt: now }, session, token };
}

/** A principal as a request sees it: who, and how much of today's quota they have used. */
export interface Authenticated extends Principal {
	usageToday: DayUsage;
}

/** The principal behind a bearer token: an API token (by its prefix) or a session token. */
export async function authenticateBearer(
	db: Db,
	token: string,
	cfg: Pick<Config, 'SESSION_TTL_DAYS'>
): Promise<Authenticated | null> {
	if (token.startsWith(API_TOKEN_PREFIX)) {
		const found = await validateApiToken(db, token);
		return found ? { user: found.user, session: null, apiToken: found.apiToken, usageToday: found.usageToday } : null;
	}
	const found = await validateSessionToken(db, token, cfg.SESSION_TTL_DAYS);
	return found ? { user: found.user, session: found.session, apiToken: null, usageToday: found.usageToday } : null;
}
