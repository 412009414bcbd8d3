// Limits of the library's own data, shared by the engine (engine/library/) and the UI.

export const GROUP_NAME_MAX = 64;

/** How often the library asks a visible running VM for a new face (its screen thumbnail). */
export const FACE_REFRESH_MS = 5000;
