/** Personal API tokens: named, shown once at creation, stored hashed, revocable. */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { apiTokens, dailyUsage, users, type ApiToken, type DailyUsage, type User } from '../db/schema';
import { dayUsageOf, utcDay, type DayUsage } from '../users/quotas';
import { NotFoundError } from '../errors';
import { API_TOKEN_PREFIX, generateToken, hashToken } from './tokens';
import { columnReader, preparedArrays } from '../db/prepared';
import { readUserAndUsage } from './user-usage-row';

const DAY_MS = 24 * 60 * 60 * 1000;
const LAST_USED_RESOLUTION_MS = 60 * 1000;

const tokenColumns = columnReader(apiTokens);

/** A row of the lookup's select list (token, user, then the day's usage or nulls), in array mode. */
function apiTokenRow(row: unknown[]): { apiToken: ApiToken; user: User; usage: DailyUsage | null } {
	return { apiToken: tokenColumns.read(row, 0), ...readUserAndUsage(row, tokenColumns.width) };
}

export async function createApiToken(
	db: DbOrTx,
	userId: string,
	input: { name: string; expiresInDays?: number | null }
): Promise<{ token: string; apiToken: ApiToken }> {
	const token = generateToken(API_TOKEN_PREFIX);
	const [apiToken] = await db
		.insert(apiTokens)
		.values({
			userId,
			name: input.name,
			tokenHash: hashToken(token),
			tokenPrefix: token.slice(0, API_TOKEN_PREFIX.length + 4),
			expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null
		})
		.returning();
	return { token, apiToken };
}

export async function listApiTokens(db: DbOrTx, userId: string): Promise<ApiToken[]> {
	return db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.createdAt));
}

export async function revokeApiToken(db: DbOrTx, userId: string, tokenId: string): Promise<void> {
	const deleted = await db
		.delete(apiTokens)
		.where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId)))
		.returning({ id: apiTokens.id });
	if (deleted.length === 0) throw new NotFoundError('API token');
}

/** The token's owner, or null when the token is unknown, expired or its user inactive. */
export async function validateApiToken(
	db: DbOrTx,
	token: string
): Promise<{ apiToken: ApiToken; user: User; usageToday: DayUsage } | null> {
	// Today's usage rides along in the same round trip, as for sessions (see validateSessionToken).
	const byTokenHash = preparedArrays(
		db,
		'api_token_by_hash',
		() =>
			db
				.select({ apiToken: apiTokens, user: users, usage: dailyUsage })
				.from(apiTokens)
				.innerJoin(users, eq(users.id, apiTokens.userId))
				.leftJoin(dailyUsage, and(eq(dailyUsage.userId, users.id), eq(dailyUsage.day, sql.placeholder('day'))))
				.where(eq(apiTokens.tokenHash, sql.placeholder('hash')))
				.limit(1)
				.toSQL(),
		apiTokenRow
	);
	const day = utcDay();
	const [row] = await byTokenHash.execute({ hash: hashToken(token), day });
	if (!row || !row.user.isActive) return null;
	const now = Date.now();
	if (row.apiToken.expiresAt && row.apiToken.expiresAt.getTime() <= now) return null;
	if (!row.apiToken.lastUsedAt || now - row.apiToken.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
		row.apiToken.lastUsedAt = new Date(now);
		await db.update(apiTokens).set({ lastUsedAt: row.apiToken.lastUsedAt }).where(eq(apiTokens.id, row.apiToken.id));
	}
	return { apiToken: row.apiToken, user: row.user, usageToday: dayUsageOf(row.usage, day) };
}
