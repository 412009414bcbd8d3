// Fixture: linted as if it lived in electron/engine/. It must be rejected.
import { app } from 'electron';

export const name = app.getName();
