/**
 * A user's webhooks: each is theirs alone (another user's id is simply not found, admins
 * included: webhooks carry one person's events to one person's server). The secret is made
 * here, answered once by createWebhook and stored only encrypted.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { CreateWebhookInput, UpdateWebhookInput } from '../../schemas/webhooks';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { users, webhooks, type Webhook } from '../db/schema';
import { NotFoundError, QuotaExceededError } from '../errors';
import { logger } from '../logger';
import { enqueue, type PgBoss } from '../queue/boss';
import { deliverySingletonKey, pingEnvelope } from './envelope';
import { encryptWebhookSecret, generateWebhookSecret } from './signing';

/** Enough for a few receivers (a CI hook, a chat bot, a script); each event is sent to every one. */
export const MAX_WEBHOOKS_PER_USER = 10;

/** Announces a change to an owner's webhooks, so a worker's wake-up list (wake.ts) follows at once. */
export const WEBHOOKS_CHANNEL = 'pixsim7_webhooks';

async function announce(db: DbOrTx, ownerId: string): Promise<void> {
	await db.execute(sql`select pg_notify(${WEBHOOKS_CHANNEL}, ${ownerId})`);
}

export async function listWebhooks(db: DbOrTx, ownerId: string): Promise<Webhook[]> {
	return db.select().from(webhooks).where(eq(webhooks.ownerId, ownerId)).orderBy(asc(webhooks.createdAt), asc(webhooks.id));
}

export async function getWebhook(db: DbOrTx, ownerId: string, id: string): Promise<Webhook> {
	const [row] = await db
		.select()
		.from(webhooks)
		.where(and(eq(webhooks.id, id), eq(webhooks.ownerId, ownerId)));
	if (!row) throw new NotFoundError('Webhook');
	return row;
}

/**
 * Adds a webhook and answers its secret, the one time it leaves the server. The limit is checked
 * under a lock on the owner's row, so two concurrent creates cannot both pass it.
 */
export async function createWebhook(db: Db, config: Config, ownerId: string, input: CreateWebhookInput): Promise<{ webhook: Webhook; secret: string }> {
	const secret = generateWebhookSecret();
	const webhook = await db.transaction(async (tx) => {
		await tx.select({ id: users.id }).from(users).where(eq(users.id, ownerId)).for('update');
		const [{ count }] = await tx
			.select({ count: sql<number>`count(*)::int` })
			.from(webhooks)
			.where(eq(webhooks.ownerId, ownerId));
		if (count >= MAX_WEBHOOKS_PER_USER) {
			throw new QuotaExceededError(`You can have at most ${MAX_WEBHOOKS_PER_USER} webhooks. Delete one to add another.`, 429, {
				quota: 'webhooks',
				limit: MAX_WEBHOOKS_PER_USER
			});
		}
		const [row] = await tx.insert(webhooks).values({ ownerId, url: input.url, secretEncrypted: encryptWebhookSecret(config, secret) }).returning();
		await announce(tx, ownerId);
		return row;
	});
	// The URL may carry credentials of its own (user:pass@, ?token=): only its host is logged.
	logger.info({ user_id: ownerId, webhook_id: webhook.id, host: new URL(webhook.url).host }, 'webhook:created');
	return { webhook, secret };
}

export async function updateWebhook(db: Db, ownerId: string, id: string, input: UpdateWebhookInput): Promise<Webhook> {
	const changes: PgUpdateSetSource<typeof webhooks> = { updatedAt: new Date() };
	if (input.url !== undefined) changes.url = input.url;
	if (input.active !== undefined) changes.active = input.active;
	const row = await db.transaction(async (tx) => {
		const [updated] = await tx
			.update(webhooks)
			.set(changes)
			.where(and(eq(webhooks.id, id), eq(webhooks.ownerId, ownerId)))
			.returning();
		if (!updated) throw new NotFoundError('Webhook');
		await announce(tx, ownerId);
		return updated;
	});
	logger.info({ user_id: ownerId, webhook_id: id, fields: Object.keys(input), active: row.active }, 'webhook:updated');
	return row;
}

/** Deliveries already queued for it find no webhook and end without sending. */
export async function deleteWebhook(db: Db, ownerId: string, id: string): Promise<void> {
	await db.transaction(async (tx) => {
		const deleted = await tx
			.delete(webhooks)
			.where(and(eq(webhooks.id, id), eq(webhooks.ownerId, ownerId)))
			.returning({ id: webhooks.id });
		if (deleted.length === 0) throw new NotFoundError('Webhook');
		await announce(tx, ownerId);
	});
	logger.info({ user_id: ownerId, webhook_id: id }, 'webhook:deleted');
}

/** Queues a `ping` delivery to the webhook (active or not): the way to check a receiver's signature code. */
export async function queueTestPing(db: Db, boss: PgBoss, ownerId: string, id: string): Promise<{ deliveryId: string }> {
	const webhook = await getWebhook(db, ownerId, id);
	const deliveryId = randomUUID();
	await enqueue(
		boss,
		'webhooks.deliver',
		{ webhook_id: webhook.id, delivery_id: deliveryId, event: pingEnvelope(webhook.id, deliveryId) },
		{ singletonKey: deliverySingletonKey(webhook.id, `ping-${deliveryId}`) }
	);
	logger.info({ user_id: ownerId, webhook_id: id, delivery_id: deliveryId }, 'webhook:ping-queued');
	return { deliveryId };
}
