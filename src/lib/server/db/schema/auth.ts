import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';

/** Browser and API sessions. Only the SHA-256 of the token is stored (Lucia's scheme). */
export const sessions = pgTable(
	'sessions',
	{
		id: id(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		tokenHash: text('token_hash').notNull().unique(),
		ipAddress: text('ip_address'),
		userAgent: text('user_agent'),
		createdAt: createdAt(),
		lastSeenAt: timestamptz('last_seen_at').notNull().defaultNow(),
		expiresAt: timestamptz('expires_at').notNull()
	},
	(t) => [index('sessions_user_id_idx').on(t.userId), index('sessions_expires_at_idx').on(t.expiresAt)]
);

export type Session = typeof sessions.$inferSelect;

/** Personal API tokens for scripts: shown once, stored hashed, revocable. */
export const apiTokens = pgTable(
	'api_tokens',
	{
		id: id(),
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		tokenHash: text('token_hash').notNull().unique(),
		// The first characters of the token, so a person can tell their tokens apart.
		tokenPrefix: text('token_prefix').notNull(),
		createdAt: createdAt(),
		lastUsedAt: timestamptz('last_used_at'),
		expiresAt: timestamptz('expires_at')
	},
	(t) => [index('api_tokens_user_id_idx').on(t.userId)]
);

export type ApiToken = typeof apiTokens.$inferSelect;
