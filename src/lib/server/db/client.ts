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
	const db = drizzle(preparing(sql, new Map()), { schema });
	return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/**
 * Texts named as server-side prepared statements per process at most (each connection keeps the
 * ones it has used until it closes; a few kilobytes each on the server). Texts beyond run unnamed.
 */
const MAX_PREPARED_TEXTS = 400;

/**
 * The client drizzle is given: the same connections, but a statement text that comes back is
 * prepared. Drizzle sends every query but its own named ones unnamed (prepare: false), and
 * postgres.js runs an unnamed statement with parameters in two round trips (Parse and Describe,
 * wait for the parameter types, then Bind and Execute) and has the server parse and plan it
 * every time. Named, a connection's second use of a text is one round trip with the parse
 * reused. Round trips are what a statement costs on these machines (bench:jobs: socket writes
 * were the largest single item in a worker's CPU profile), so this roughly halved them.
 *
 * A text is named from its second use on (`seen`), so one-off texts (ad-hoc filters, lists of
 * every length) never fill the connections' statement caches, and never beyond MAX_PREPARED_TEXTS.
 * Transactions and savepoints hand their callbacks the same wrapping.
 */
function preparing(sql: postgres.Sql, seen: Map<string, boolean>): postgres.Sql {
	let prepared = 0;
	// seen: false = used once, unnamed; true = named from now on.
	const prepareText = (query: string, parameters: readonly unknown[] | undefined): boolean => {
		if (!parameters?.length) return false;
		const named = seen.get(query);
		if (named === undefined) {
			if (seen.size < MAX_PREPARED_TEXTS * 4) seen.set(query, false);
			return false;
		}
		if (named) return true;
		if (prepared >= MAX_PREPARED_TEXTS) return false;
		seen.set(query, true);
		prepared++;
		return true;
	};
	const wrap = <T extends postgres.Sql | postgres.TransactionSql>(target: T): T =>
		new Proxy(target, {
			get(object, property) {
				if (property === 'unsafe') {
					return (query: string, parameters?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
						object.unsafe(query, parameters, { ...options, prepare: options?.prepare === true || prepareText(query, parameters) });
				}
				if (property === 'begin' || property === 'savepoint') {
					const open = Reflect.get(object, property) as (...args: unknown[]) => Promise<unknown>;
					return (...args: unknown[]) => {
						const callback = args.at(-1) as (tx: postgres.TransactionSql) => unknown;
						return open.apply(object, [...args.slice(0, -1), (tx: postgres.TransactionSql) => callback(wrap(tx))]);
					};
				}
				const value: unknown = Reflect.get(object, property);
				return typeof value === 'function' ? value.bind(object) : value;
			}
		});
	return wrap(sql);
}
