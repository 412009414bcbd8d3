// `autoFocus` without the attribute: React focuses an autoFocus element when it mounts, but the
// built page runs on Preact's compat layer (vite.renderer.config.ts), which only writes the
// HTML attribute, and a browser honours that once per page at most. A ref with one stable
// identity is called once when its element mounts, under either, and focuses it then.
export const focusOnMount = (el: HTMLElement | null): void => {
  el?.focus();
};
