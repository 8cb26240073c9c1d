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

/**
 * A postgres.js client for a connection URL. `?host=/some/dir` (libpq's convention, which pg and
 * so pg-boss read too) means the server's Unix socket in that directory: postgres.js would send
 * an unknown query parameter to the server as a setting, so it becomes the `host` option here.
 * The embedded server's URLs use its socket: on these machines a query over loopback TCP cost
 * twice the client CPU of one over the socket (bench:jobs spent a sixth of each worker's time in
 * socket writes).
 */
export function openPostgres(url: string, options: postgres.Options<Record<string, postgres.PostgresType>> = {}): postgres.Sql {
	const parsed = new URL(url);
	const socketDir = parsed.searchParams.get('host');
	if (!socketDir?.startsWith('/')) return postgres(url, options);
	parsed.searchParams.delete('host');
	return postgres(parsed.toString(), { ...options, host: socketDir });
}

export function connect(url: string, options: { max?: number } = {}): Database {
	const sql = openPostgres(url, {
		max: options.max ?? 10,
		onnotice: () => {}
	});
	const db = drizzle(sql, { schema });
	return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
