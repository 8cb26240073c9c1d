import { sql } from 'drizzle-orm';
import {
	bigint,
	boolean,
	check,
	date,
	integer,
	pgEnum,
	pgTable,
	primaryKey,
	text,
	uniqueIndex,
	uuid
} from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';

export const userRole = pgEnum('user_role', ['user', 'admin']);

export const users = pgTable(
	'users',
	{
		id: id(),
		email: text('email').notNull(),
		username: text('username').notNull(),
		passwordHash: text('password_hash').notNull(),
		role: userRole('role').notNull().default('user'),
		isActive: boolean('is_active').notNull().default(true),
		// Quota overrides; null means "the default from config".
		quotaJobsPerDay: integer('quota_jobs_per_day'),
		quotaStorageBytes: bigint('quota_storage_bytes', { mode: 'number' }),
		quotaProviderAccounts: integer('quota_provider_accounts'),
		// Bytes of media the user stores now; changed only by single conditional UPDATEs.
		storageBytesUsed: bigint('storage_bytes_used', { mode: 'number' }).notNull().default(0),
		createdAt: createdAt(),
		updatedAt: timestamptz('updated_at').notNull().defaultNow(),
		lastLoginAt: timestamptz('last_login_at')
	},
	(t) => [
		uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
		uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
		check('users_storage_bytes_used_nonnegative', sql`${t.storageBytesUsed} >= 0`)
	]
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type UserRole = (typeof userRole.enumValues)[number];

/** One row per user per UTC day: what they created that day. */
export const dailyUsage = pgTable(
	'daily_usage',
	{
		userId: uuid('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		day: date('day', { mode: 'string' }).notNull(),
		jobsCreated: integer('jobs_created').notNull().default(0),
		assetsCreated: integer('assets_created').notNull().default(0),
		bytesAdded: bigint('bytes_added', { mode: 'number' }).notNull().default(0)
	},
	(t) => [primaryKey({ columns: [t.userId, t.day] })]
);

export type DailyUsage = typeof dailyUsage.$inferSelect;
