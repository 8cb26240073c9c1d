import { expect, test, type Page } from '@playwright/test';
import { contextWithSession, loginViaApi, mainNav, registerViaApi, uniqueUser } from './support/app';
import { DEMO } from './support/env';

const accountRow = (page: Page, label: string) => page.getByRole('row', { name: label });

async function addAccount(page: Page, fields: { label: string; apiKey: string; credits?: string; shared?: boolean }) {
	const form = page.getByRole('region', { name: 'Add an account' });
	await form.getByLabel('Label').fill(fields.label);
	await form.getByLabel('API key').fill(fields.apiKey);
	if (fields.credits !== undefined) await form.getByLabel('Credits').fill(fields.credits);
	if (fields.shared) await form.getByLabel('Shared').check();
	await form.getByRole('button', { name: 'Add account' }).click();
	await expect(form.getByRole('status')).toHaveText(`Added “${fields.label}”.`);
}

test('an admin adds a shared account, disables it and edits its credits', async ({ browser, request }) => {
	const context = await contextWithSession(browser, await loginViaApi(request, DEMO));
	const page = await context.newPage();
	await page.goto('/gallery');
	await mainNav(page).getByRole('link', { name: 'Accounts' }).click();
	await expect(page.getByRole('heading', { name: 'Accounts', level: 1 })).toBeVisible();
	// The local renderer's built-in account is listed, shared, and needs no key.
	await expect(accountRow(page, 'Local renderer')).toContainText('Shared');

	const label = `Team key ${Date.now()}`;
	// A bad credits value is refused beside its box, and nothing is added.
	const form = page.getByRole('region', { name: 'Add an account' });
	await form.getByLabel('Label').fill(label);
	await form.getByLabel('API key').fill('sk-e2e-secret-key-1234');
	await form.getByLabel('Credits').fill('lots');
	await form.getByRole('button', { name: 'Add account' }).click();
	await expect(form.getByLabel('Credits')).toHaveAccessibleDescription(/Enter a number/);
	await expect(accountRow(page, label)).toHaveCount(0);

	await addAccount(page, { label, apiKey: 'sk-e2e-secret-key-1234', credits: '120', shared: true });
	const row = accountRow(page, label);
	await expect(row).toContainText('Shared');
	await expect(row).toContainText('Active');
	await expect(row).toContainText('key …1234');
	await expect(row.getByLabel(`Credits for ${label}`)).toHaveValue('120');
	// The secret itself is nowhere on the page.
	expect(await page.content()).not.toContain('sk-e2e-secret');

	await row.getByRole('button', { name: `Disable ${label}` }).click();
	await expect(row).toContainText('Disabled');
	await expect(row.getByRole('button', { name: `Enable ${label}` })).toBeVisible();

	await row.getByLabel(`Credits for ${label}`).fill('default=80, video=5');
	await row.getByRole('button', { name: `Save credits for ${label}` }).click();
	await expect(row.getByRole('status')).toHaveText('Credits saved.');

	// Stored, not just shown.
	await page.reload();
	await expect(accountRow(page, label).getByLabel(`Credits for ${label}`)).toHaveValue('default=80, video=5');
	await expect(accountRow(page, label)).toContainText('Disabled');
	await context.close();
});

test('a user adds a private account (also without JavaScript) and only sees shared ones read-only', async ({ browser, request }) => {
	const user = uniqueUser('accounts');
	const token = await registerViaApi(request, user);
	const context = await contextWithSession(browser, token, { javaScriptEnabled: false });
	const page = await context.newPage();
	await page.goto('/accounts');
	await expect(mainNav(page).getByRole('link', { name: 'Accounts' })).toBeVisible();
	await expect(page.getByText('You have 0 of 5 private accounts.')).toBeVisible();
	// Users cannot make shared accounts: no such box.
	await expect(page.getByLabel('Shared')).toHaveCount(0);

	const form = page.getByRole('region', { name: 'Add an account' });
	await form.getByLabel('Label').fill('My key');
	await form.getByLabel('API key').fill('sk-user-private-key-5678');
	await form.getByRole('button', { name: 'Add account' }).click();
	await expect(page.getByRole('region', { name: 'Add an account' }).getByRole('status')).toHaveText('Added “My key”.');
	const row = accountRow(page, 'My key');
	await expect(row).toContainText('Private (yours)');
	await expect(row).toContainText('key …5678');
	await expect(page.getByText('You have 1 of 5 private accounts.')).toBeVisible();

	// Shared accounts are listed without controls.
	const local = accountRow(page, 'Local renderer');
	await expect(local).toBeVisible();
	await expect(local.getByRole('button')).toHaveCount(0);

	await row.getByRole('button', { name: 'Disable My key' }).click();
	await expect(accountRow(page, 'My key')).toContainText('Disabled');
	await context.close();
});
