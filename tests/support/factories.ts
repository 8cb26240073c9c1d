/** Small factories: a user (with a session token) in one call. */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/lib/server/db/client';
import { users, type User } from '../../src/lib/server/db/schema';
import { registerUser } from '../../src/lib/server/auth/service';

export const TEST_PASSWORD = 'correct horse battery';

export async function makeUser(
	db: Db,
	overrides: { email?: string; username?: string; password?: string; role?: 'user' | 'admin' } = {}
): Promise<{ user: User; token: string; password: string }> {
	const suffix = randomBytes(4).toString('hex');
	const password = overrides.password ?? TEST_PASSWORD;
	const signedIn = await registerUser(
		db,
		{ email: overrides.email ?? `user-${suffix}@example.test`, username: overrides.username ?? `user_${suffix}`, password },
		{ ipAddress: '127.0.0.1', userAgent: 'vitest' },
		{ SESSION_TTL_DAYS: 30 }
	);
	let user = signedIn.user;
	if (overrides.role && overrides.role !== user.role) {
		[user] = await db.update(users).set({ role: overrides.role }).where(eq(users.id, user.id)).returning();
	}
	return { user, token: signedIn.token, password };
}
