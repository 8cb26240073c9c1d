import { fail } from '@sveltejs/kit';
import { ApiTokenForm, PasswordForm, ProfileForm, RowIdForm } from '$lib/schemas/forms';
import { createApiToken, listApiTokens, revokeApiToken } from '$lib/server/auth/api-tokens';
import { apiTokenJson, sessionJson } from '$lib/server/auth/json';
import { listSessions, revokeOtherSessions, revokeSession } from '$lib/server/auth/sessions';
import { config } from '$lib/server/config';
import { failWith, parseForm } from '$lib/server/http/forms';
import { requireUser } from '$lib/server/http/pages';
import { boss, db } from '$lib/server/runtime';
import { accountJson } from '$lib/server/users/json';
import { getAccount, updateOwnProfile } from '$lib/server/users/service';
import { AddWebhookForm, WebhookActiveForm } from '$lib/schemas/webhooks';
import { webhookJson } from '$lib/server/webhooks/json';
import { createWebhook, deleteWebhook, listWebhooks, MAX_WEBHOOKS_PER_USER, queueTestPing, updateWebhook } from '$lib/server/webhooks/service';
import type { Actions } from './$types';

export const load = async (event) => {
	const { user, session } = requireUser(event);
	const [account, sessions, tokens, webhooks] = await Promise.all([
		getAccount(db(), user, config(), event.locals.usageToday),
		listSessions(db(), user.id),
		listApiTokens(db(), user.id),
		listWebhooks(db(), user.id)
	]);
	return {
		account: accountJson(account),
		sessions: sessions.map((s) => sessionJson(s, session?.id ?? null)),
		tokens: tokens.map(apiTokenJson),
		webhooks: webhooks.map(webhookJson),
		webhookLimit: MAX_WEBHOOKS_PER_USER
	};
};

// Every result names its action, so the page shows it beside the form that was sent.
export const actions = {
	profile: async (event) => {
		const principal = requireUser(event);
		const form = await event.request.formData();
		const values = { username: String(form.get('username') ?? '') };
		const parsed = parseForm(ProfileForm, form);
		if (!parsed.ok) return fail(400, { action: 'profile' as const, values, errors: parsed.errors });
		try {
			await updateOwnProfile(db(), principal, parsed.data);
		} catch (err) {
			return failWith(err, { action: 'profile' as const, values });
		}
		return { action: 'profile' as const, success: 'Username saved.' };
	},

	password: async (event) => {
		const principal = requireUser(event);
		const parsed = parseForm(PasswordForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { action: 'password' as const, errors: parsed.errors });
		try {
			await updateOwnProfile(db(), principal, parsed.data);
		} catch (err) {
			return failWith(err, { action: 'password' as const });
		}
		event.locals.log.info('auth:password-changed');
		return { action: 'password' as const, success: 'Password changed. Every other session was signed out.' };
	},

	revokeSession: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(RowIdForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { action: 'sessions' as const, errors: parsed.errors });
		try {
			await revokeSession(db(), user.id, parsed.data.id);
		} catch (err) {
			return failWith(err, { action: 'sessions' as const });
		}
		return { action: 'sessions' as const, success: 'Session signed out.' };
	},

	signOutOthers: async (event) => {
		const { user, session } = requireUser(event);
		const count = await revokeOtherSessions(db(), user.id, session?.id ?? null);
		const success = count === 0 ? 'There were no other sessions.' : `Signed out of ${count} other ${count === 1 ? 'session' : 'sessions'}.`;
		return { action: 'sessions' as const, success };
	},

	createToken: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const values = { name: String(form.get('name') ?? '') };
		const parsed = parseForm(ApiTokenForm, form);
		if (!parsed.ok) return fail(400, { action: 'tokens' as const, values, errors: parsed.errors });
		const { token, apiToken } = await createApiToken(db(), user.id, parsed.data);
		event.locals.log.info({ api_token_id: apiToken.id }, 'auth:token-created');
		// The only time the token leaves the server; only its hash is stored.
		return { action: 'tokens' as const, created: { name: apiToken.name, token } };
	},

	revokeToken: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(RowIdForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { action: 'tokens' as const, errors: parsed.errors });
		try {
			await revokeApiToken(db(), user.id, parsed.data.id);
		} catch (err) {
			return failWith(err, { action: 'tokens' as const });
		}
		return { action: 'tokens' as const, success: 'Token revoked. Scripts that use it now get 401.' };
	},

	createWebhook: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const values = { url: String(form.get('url') ?? '') };
		const parsed = parseForm(AddWebhookForm, form);
		if (!parsed.ok) return fail(400, { action: 'webhooks' as const, values, errors: parsed.errors });
		try {
			const { webhook, secret } = await createWebhook(db(), config(), user.id, parsed.data);
			// The only time the secret leaves the server; it is stored encrypted.
			return { action: 'webhooks' as const, webhookCreated: { url: webhook.url, secret } };
		} catch (err) {
			return failWith(err, { action: 'webhooks' as const, values });
		}
	},

	toggleWebhook: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(WebhookActiveForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { action: 'webhooks' as const, errors: { _: Object.values(parsed.errors).flat() } });
		try {
			const webhook = await updateWebhook(db(), user.id, parsed.data.id, { active: parsed.data.active });
			return { action: 'webhooks' as const, success: webhook.active ? 'Webhook resumed.' : 'Webhook paused: it receives no events until resumed.' };
		} catch (err) {
			return failWith(err, { action: 'webhooks' as const });
		}
	},

	testWebhook: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(RowIdForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { action: 'webhooks' as const, errors: { _: Object.values(parsed.errors).flat() } });
		try {
			await queueTestPing(db(), boss(), user.id, parsed.data.id);
		} catch (err) {
			return failWith(err, { action: 'webhooks' as const });
		}
		return { action: 'webhooks' as const, success: 'Test ping queued. Reload in a few seconds to see its result as the last delivery.' };
	},

	deleteWebhook: async (event) => {
		const { user } = requireUser(event);
		const parsed = parseForm(RowIdForm, await event.request.formData());
		if (!parsed.ok) return fail(400, { action: 'webhooks' as const, errors: { _: Object.values(parsed.errors).flat() } });
		try {
			await deleteWebhook(db(), user.id, parsed.data.id);
		} catch (err) {
			return failWith(err, { action: 'webhooks' as const });
		}
		return { action: 'webhooks' as const, success: 'Webhook deleted.' };
	}
} satisfies Actions;
