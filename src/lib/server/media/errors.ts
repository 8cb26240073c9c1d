/**
 * The file itself is at fault (not a supported type, truncated, too many pixels, no video stream):
 * trying again cannot help, so ingest marks the asset failed with this message instead of retrying.
 * The message is shown to the user, so it says what is wrong with their file in plain words.
 */
export class MediaContentError extends Error {
	override name = 'MediaContentError';
}
