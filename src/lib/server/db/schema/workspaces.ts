import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';

/** A user's folders for jobs and assets (the seeds' "projects"). */
export const workspaces = pgTable(
	'workspaces',
	{
		id: id(),
		ownerId: uuid('owner_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		name: text('name').notNull(),
		description: text('description').notNull().default(''),
		createdAt: createdAt(),
		updatedAt: timestamptz('updated_at').notNull().defaultNow()
	},
	(t) => [
		uniqueIndex('workspaces_owner_name_key').on(t.ownerId, sql`lower(${t.name})`),
		index('workspaces_owner_created_idx').on(t.ownerId, t.createdAt)
	]
);

export type Workspace = typeof workspaces.$inferSelect;
