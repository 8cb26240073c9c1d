export interface NavItem {
	href: string;
	label: string;
}

const ITEMS: (NavItem & { adminOnly?: boolean })[] = [
	{ href: '/gallery', label: 'Gallery' },
	{ href: '/jobs', label: 'Jobs' },
	{ href: '/scenes', label: 'Scenes' },
	{ href: '/devices', label: 'Devices' },
	{ href: '/accounts', label: 'Accounts' },
	{ href: '/admin/users', label: 'Users', adminOnly: true },
	{ href: '/settings', label: 'Settings' }
];

/** The app's main navigation as the given role sees it. */
export function navItemsFor(role: 'user' | 'admin'): NavItem[] {
	return ITEMS.filter((item) => role === 'admin' || !item.adminOnly).map(({ href, label }) => ({ href, label }));
}

/** A link is current on its own page and on the pages below it. */
export function isCurrent(href: string, pathname: string): boolean {
	return pathname === href || pathname.startsWith(`${href}/`);
}
