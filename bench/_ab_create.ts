export {};
// temporary microbench (not committed): createJob alone
process.env.LOG_LEVEL = 'warn';
const { startBenchDatabase, databaseCpuSeconds, registerBenchUser } = await import('./support');
const { createBoss, ensureQueues } = await import('../src/lib/server/queue/boss');
const { connect } = await import('../src/lib/server/db/client');
const { loadConfig } = await import('../src/lib/server/config');
const { createJob } = await import('../src/lib/server/jobs/service');
const { users } = await import('../src/lib/server/db/schema');
const { eq } = await import('drizzle-orm');
const { TEST_CREDENTIALS_KEY } = await import('../tests/support/accounts');
const database = await startBenchDatabase();
const config = loadConfig({ ...process.env, DATABASE_URL: database.url, CREDENTIALS_KEY: TEST_CREDENTIALS_KEY, QUOTA_JOBS_PER_DAY: '100000' });
const boss = createBoss(database.url, 'pgboss', 'web');
await boss.start(); await ensureQueues(boss);
const { db, close } = connect(database.url, { max: 6 });
const { userId } = await registerBenchUser(database.url);
const [user] = await db.select().from(users).where(eq(users.id, userId));
for (let round = 0; round < 3; round++) {
	const N = 1000; let next = 0;
	const c0 = process.cpuUsage(); const d0 = databaseCpuSeconds(database); const t0 = Date.now();
	await Promise.all(Array.from({ length: 8 }, async () => { while (next < N) { const i = next++; await createJob(db, boss, config, user, { operationType: 'text_to_video', providerId: 'pixverse', params: { prompt: `p ${i}` } }); } }));
	const c1 = process.cpuUsage(c0); const d1 = databaseCpuSeconds(database);
	console.log(`creates: ${N} in ${Date.now() - t0} ms; node ${((c1.user + c1.system) / 1000 / N).toFixed(2)} ms/job, pg ${((d1 - d0) / N * 1000).toFixed(2)} ms/job`);
}
await close(); await boss.stop({ graceful: false, timeout: 2000 }); await database.stop();
