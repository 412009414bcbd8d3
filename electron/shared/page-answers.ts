// The first answers `vireo serve` writes into the page it serves (electron/server/page-answers.ts)
// and the renderer's client takes before its API socket has opened (renderer/src/api/client.ts),
// so the library is drawn one WebSocket handshake and round trip earlier (issue 21). One home
// for the element's id and the methods, so the two ends cannot drift.

/** id of the `<script type="application/json">` data block in index.html */
export const PAGE_ANSWERS_ID = 'vireo-page-answers';

/**
 * Read-only, argument-free methods whose answers are the library view's first state. Each is
 * cheap (the engine's in-memory library); host.info and hosts.list are not here, since a QEMU
 * probe or a libvirt host may take seconds and the page must never wait for them, nor is
 * jobs.list, whose view merges updates into its list rather than replacing it.
 */
export const PAGE_ANSWER_METHODS = ['vms.list', 'groups.list'] as const;

export type PageAnswerMethod = (typeof PAGE_ANSWER_METHODS)[number];
