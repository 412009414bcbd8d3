// Fixture: linted as if it lived in electron/shared/. Plain code with no imports passes.
export const twice = (n: number) => n * 2;
export type Twice = ReturnType<typeof twice>;
