import { timestamp, uuid } from 'drizzle-orm/pg-core';

/** Column helpers shared by every table, so ids and timestamps look the same everywhere. */
export const id = () => uuid('id').primaryKey().defaultRandom();

export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const createdAt = () => timestamptz('created_at').notNull().defaultNow();
