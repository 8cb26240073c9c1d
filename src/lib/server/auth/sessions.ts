/**
 * Sessions after Lucia's documented scheme: a random token goes to the client, only its SHA-256 is
 * stored, expiry slides forward when half the lifetime is used, expired rows are removed.
 */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { dailyUsage, sessions, users, type DailyUsage, type Session, type User } from '../db/schema';
import { dayUsageOf, utcDay, type DayUsage } from '../users/quotas';
import { NotFoundError } from '../errors';
import { generateToken, hashToken } from './tokens';
import { columnReader, preparedArrays } from '../db/prepared';
import { readUserAndUsage } from './user-usage-row';

const DAY_MS = 24 * 60 * 60 * 1000;
/** last_seen_at is a hint for the sessions list; writing it more often than this buys nothing. */
const LAST_SEEN_RESOLUTION_MS = 60 * 1000;

export interface ClientInfo {
	ipAddress?: string | null;
	userAgent?: string | null;
}

export interface SessionValidation {
	session: Session;
	user: User;
	/**
	 * The user's usage today, read in the same round trip: quota-aware endpoints need it, and a
	 * second query per request costs more than the join (see bench/auth.ts).
	 */
	usageToday: DayUsage;
}

const sessionColumns = columnReader(sessions);

/** A row of the lookup's select list (session, user, then the day's usage or nulls), in array mode. */
function sessionRow(row: unknown[]): { session: Session; user: User; usage: DailyUsage | null } {
	return { session: sessionColumns.read(row, 0), ...readUserAndUsage(row, sessionColumns.width) };
}

export async function createSession(
	db: DbOrTx,
	userId: string,
	client: ClientInfo,
	ttlDays: number
): Promise<{ token: string; session: Session }> {
	const token = generateToken();
	const [session] = await db
		.insert(sessions)
		.values({
			userId,
			tokenHash: hashToken(token),
			ipAddress: client.ipAddress ?? null,
			userAgent: client.userAgent?.slice(0, 512) ?? null,
			expiresAt: new Date(Date.now() + ttlDays * DAY_MS)
		})
		.returning();
	return { token, session };
}

/**
 * The session and its user for a token, or null when the token is unknown, expired, or its user
 * is inactive. Extends the expiry when less than half of it is left.
 */
export async function validateSessionToken(
	db: DbOrTx,
	token: string,
	ttlDays: number
): Promise<SessionValidation | null> {
	const byTokenHash = preparedArrays(
		db,
		'session_by_token_hash',
		() =>
			db
				.select({ session: sessions, user: users, usage: dailyUsage })
				.from(sessions)
				.innerJoin(users, eq(users.id, sessions.userId))
				.leftJoin(dailyUsage, and(eq(dailyUsage.userId, users.id), eq(dailyUsage.day, sql.placeholder('day'))))
				.where(eq(sessions.tokenHash, sql.placeholder('hash')))
				.limit(1)
				.toSQL(),
		sessionRow
	);
	const day = utcDay();
	const [row] = await byTokenHash.execute({ hash: hashToken(token), day });
	if (!row) return null;
	const { session, user } = row;
	const now = Date.now();

	if (session.expiresAt.getTime() <= now) {
		await db.delete(sessions).where(eq(sessions.id, session.id));
		return null;
	}
	if (!user.isActive) return null;

	const ttlMs = ttlDays * DAY_MS;
	const renew = session.expiresAt.getTime() - now < ttlMs / 2;
	const touch = now - session.lastSeenAt.getTime() > LAST_SEEN_RESOLUTION_MS;
	if (renew || touch) {
		session.lastSeenAt = new Date(now);
		if (renew) session.expiresAt = new Date(now + ttlMs);
		await db
			.update(sessions)
			.set({ lastSeenAt: session.lastSeenAt, expiresAt: session.expiresAt })
			.where(eq(sessions.id, session.id));
	}
	return { session, user, usageToday: dayUsageOf(row.usage, day) };
}

export async function invalidateSession(db: DbOrTx, sessionId: string): Promise<void> {
	await db.delete(sessions).where(eq(sessions.id, sessionId));
}

export async function listSessions(db: DbOrTx, userId: string): Promise<Session[]> {
	return db
		.select()
		.from(sessions)
		.where(and(eq(sessions.userId, userId), sql`${sessions.expiresAt} > now()`))
		.orderBy(desc(sessions.lastSeenAt));
}

/** Revokes one of the user's own sessions; another user's session id is not found. */
export async function revokeSession(db: DbOrTx, userId: string, sessionId: string): Promise<void> {
	const deleted = await db
		.delete(sessions)
		.where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
		.returning({ id: sessions.id });
	if (deleted.length === 0) throw new NotFoundError('Session');
}

/** Signs the user out everywhere but the given session (or everywhere, with null). */
export async function revokeOtherSessions(
	db: DbOrTx,
	userId: string,
	keepSessionId: string | null
): Promise<number> {
	const where = keepSessionId
		? and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId))
		: eq(sessions.userId, userId);
	const deleted = await db.delete(sessions).where(where).returning({ id: sessions.id });
	return deleted.length;
}

export async function purgeExpiredSessions(db: DbOrTx, now = new Date()): Promise<number> {
	const deleted = await db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
	return deleted.length;
}
