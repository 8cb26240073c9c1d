import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
/** A transaction handle, usable wherever a Db is (drizzle's tx has the same query API). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
	db: Db;
	sql: postgres.Sql;
	close(): Promise<void>;
}

export function connect(url: string, options: { max?: number } = {}): Database {
	const sql = postgres(url, {
		max: options.max ?? 10,
		onnotice: () => {}
	});
	const db = drizzle(sql, { schema });
	return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
