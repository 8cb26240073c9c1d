/**
 * Wakes the dispatcher when an event is committed for someone with an active webhook. The worker
 * LISTENs on the events channel (whose payload names the owner) and keeps the set of owners with
 * active webhooks in memory, reloaded when the web process announces a change (WEBHOOKS_CHANNEL).
 * So an event of a user without webhooks costs nothing beyond the NOTIFY that was sent anyway,
 * and a burst of events is one dispatch (sends within WAKE_DELAY_MS are coalesced; the stately
 * queue keeps at most one waiting). The every-minute cron stays as the backstop for a dropped
 * connection. Why not a 1-second poll: it reads the events table every second all day, and still
 * delivers later than this on average.
 */
import type postgres from 'postgres';
import { eq } from 'drizzle-orm';
import { openPostgres, type Db } from '../db/client';
import { webhooks } from '../db/schema';
import { EVENTS_CHANNEL, parseNotification } from '../events/publish';
import type { Logger } from '../logger';
import { enqueue, type PgBoss } from '../queue/boss';
import { WEBHOOKS_CHANNEL } from './service';

const WAKE_DELAY_MS = 100;

export interface WebhookWake {
	stop(): Promise<void>;
}

export async function startWebhookWake(url: string, db: Db, boss: PgBoss, log: Logger): Promise<WebhookWake> {
	let owners = new Set<string>();
	let timer: ReturnType<typeof setTimeout> | null = null;
	let stopped = false;

	async function reloadOwners(): Promise<void> {
		try {
			const rows = await db.selectDistinct({ ownerId: webhooks.ownerId }).from(webhooks).where(eq(webhooks.active, true));
			owners = new Set(rows.map((r) => r.ownerId));
		} catch (err) {
			log.warn({ err }, 'webhooks:owners-reload-failed');
		}
	}

	function wake(): void {
		if (timer || stopped) return;
		timer = setTimeout(() => {
			timer = null;
			enqueue(boss, 'webhooks.dispatch', {}).catch((err: unknown) => log.warn({ err }, 'webhooks:wake-failed'));
		}, WAKE_DELAY_MS);
	}

	await reloadOwners();
	// A dedicated connection: a LISTEN connection must never be handed out to queries.
	const listener: postgres.Sql = openPostgres(url, { max: 1, idle_timeout: 0, onnotice: () => {}, connection: { application_name: 'pixsim7-webhooks' } });
	let listens = 0;
	await listener.listen(
		EVENTS_CHANNEL,
		(payload) => {
			if (parseNotification(payload).some((p) => owners.has(p.ownerId))) wake();
		},
		() => {
			// After a reconnect, what was announced in between is unknown: reload and look once.
			if (++listens > 1) void reloadOwners().then(wake);
		}
	);
	// A changed webhook may have events waiting that arrived before the reload: look once.
	await listener.listen(WEBHOOKS_CHANNEL, () => void reloadOwners().then(wake));
	log.info({ owners: owners.size }, 'webhooks:listening');

	return {
		async stop() {
			stopped = true;
			if (timer) clearTimeout(timer);
			await listener.end({ timeout: 2 });
		}
	};
}
