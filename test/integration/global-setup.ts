import { ensureFixtures } from '../fixtures/guest.ts';
import { ensureArm64Fixtures } from '../fixtures/guest-arm64.ts';

// Builds the test guest once before any integration test file runs; a warm cache makes this
// a fast no-op (build.sh checks a stamp of its inputs).
export default async function setup(): Promise<void> {
  await ensureFixtures();
  await ensureArm64Fixtures();
}
