import { fail } from '@sveltejs/kit';
import { AccountCreditsForm, AccountIdForm, AccountStatusForm, AddAccountForm } from '$lib/schemas/accounts';
import { accountJson } from '$lib/server/accounts/json';
import { createAccount, deleteAccount, listAccounts, updateAccount } from '$lib/server/accounts/service';
import { config } from '$lib/server/config';
import { failWith, parseForm } from '$lib/server/http/forms';
import { requireUser } from '$lib/server/http/pages';
import { listProviders } from '$lib/server/providers/registry';
import { db } from '$lib/server/runtime';
import { effectiveQuotas } from '$lib/server/users/quotas';
import type { Actions } from './$types';

export const load = async (event) => {
	const { user } = requireUser(event);
	const cfg = config();
	const accounts = await listAccounts(db(), user);
	return {
		accounts: accounts.map((a) => accountJson(a, user, cfg)),
		// Only providers that use accounts can be added; the local renderer has its own.
		providers: listProviders()
			.filter((p) => p.requiresCredentials)
			.map((p) => ({ id: p.id, label: p.label })),
		privateLimit: effectiveQuotas(user, cfg).providerAccounts,
		privateCount: accounts.filter((a) => a.ownerId === user.id).length
	};
};

/** The form's boxes as sent, to show again after an error; never the secrets. */
function addValues(form: FormData) {
	const text = (name: string) => String(form.get(name) ?? '');
	return {
		provider_id: text('provider_id'),
		label: text('label'),
		priority: text('priority'),
		max_concurrent_jobs: text('max_concurrent_jobs'),
		credits: text('credits'),
		shared: form.has('shared') ? 'on' : ''
	};
}

// Every result names its action (and row), so the page shows it beside the form that was sent.
export const actions = {
	add: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const values = addValues(form);
		const parsed = parseForm(AddAccountForm, form);
		if (!parsed.ok) return fail(400, { action: 'add' as const, values, errors: parsed.errors });
		try {
			await createAccount(db(), config(), user, parsed.data);
		} catch (err) {
			return failWith(err, { action: 'add' as const, values });
		}
		return { action: 'add' as const, success: `Added “${parsed.data.label}”.` };
	},

	status: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const id = String(form.get('id') ?? '');
		const parsed = parseForm(AccountStatusForm, form);
		if (!parsed.ok) return fail(400, { action: 'status' as const, id, errors: parsed.errors });
		try {
			const account = await updateAccount(db(), config(), user, parsed.data.id, { status: parsed.data.status });
			return { action: 'status' as const, id, success: account.status === 'disabled' ? 'Disabled.' : 'Enabled.' };
		} catch (err) {
			return failWith(err, { action: 'status' as const, id });
		}
	},

	credits: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const id = String(form.get('id') ?? '');
		const values = { credits: String(form.get('credits') ?? '') };
		const parsed = parseForm(AccountCreditsForm, form);
		if (!parsed.ok) return fail(400, { action: 'credits' as const, id, values, errors: parsed.errors });
		try {
			await updateAccount(db(), config(), user, parsed.data.id, { credits: parsed.data.credits });
		} catch (err) {
			return failWith(err, { action: 'credits' as const, id, values });
		}
		return { action: 'credits' as const, id, success: 'Credits saved.' };
	},

	delete: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const id = String(form.get('id') ?? '');
		const parsed = parseForm(AccountIdForm, form);
		if (!parsed.ok) return fail(400, { action: 'delete' as const, id, errors: parsed.errors });
		try {
			await deleteAccount(db(), user, parsed.data.id);
		} catch (err) {
			return failWith(err, { action: 'delete' as const, id });
		}
		return { action: 'delete' as const, id, success: 'Deleted.' };
	}
} satisfies Actions;
