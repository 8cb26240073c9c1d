/** Small pure helpers the gallery's components share. */
import { thumbHashToDataURL } from 'thumbhash';

/** The thumbhash (base64) as a tiny PNG data URL to show until the thumbnail arrives. */
export function placeholderUrl(hash: string | null): string | null {
	if (!hash) return null;
	try {
		const bytes = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
		return thumbHashToDataURL(bytes);
	} catch {
		return null;
	}
}

/** 75.4 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds: number | null): string {
	if (seconds === null || !Number.isFinite(seconds)) return '';
	const total = Math.round(seconds);
	const h = Math.floor(total / 3600);
	const m = Math.floor((total % 3600) / 60);
	const s = String(total % 60).padStart(2, '0');
	return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export const GALLERY_FILTER_KEYS = ['media_type', 'workspace_id', 'status', 'provider_id', 'q', 'trash'] as const;

/** The list query (filters only, no cursor) from the page URL, in a stable order. */
export function listQueryFrom(url: URL): string {
	const params = new URLSearchParams();
	for (const key of GALLERY_FILTER_KEYS) {
		const value = url.searchParams.get(key);
		if (value) params.set(key, value);
	}
	return params.toString();
}
