import { performance } from 'node:perf_hooks';
import { ENCODING_RAW, type RfbClient } from '../test/fixtures/rfb-client.ts';

// bench/display.ts's keypress → changed pixels figure: its guest and its measurement.

/**
 * A 64 KiB disk for the keypress latency: the bottom-right text cell changes at ~200 Hz (so
 * QEMU's VNC refresh timer stays at its 30 ms base instead of backing off on an idle screen),
 * and a key from the BIOS keyboard buffer fills the other 1999 cells with the key's character
 * and its scan code as the colour; `hlt` between ticks and keys.
 */
export function keyEchoBootSector(): Buffer {
  const code = Buffer.from(
    [
      'b036 e643 b04e e640 b017 e640', // PIT channel 0 at ~200 Hz (as busyScreenBootSector)
      'b800b8 8ec0 fc fb', // es = 0xb800, cld, sti
      '26ff069e0f', // loop: inc word [es:3998] (the bottom-right cell)
      'b401 cd16 740b', // key waiting? (int 16h, ah=1) if not, to hlt
      'b400 cd16', // read it: al = character, ah = scan code
      '31ff b9cf07 f3ab', // fill cells 0..1998 with it
      'f4 ebe7', // hlt; jmp loop
    ]
      .join('')
      .replace(/ /g, ''),
    'hex',
  );
  const img = Buffer.alloc(64 * 1024);
  code.copy(img, 0);
  img[510] = 0x55;
  img[511] = 0xaa;
  return img;
}

/**
 * Keypress → changed pixels: KeyEvent 'a' or 'b' (alternating, so every press changes the
 * screen) sent at t0, then incremental update requests, one in flight, until an update carries
 * a rectangle above the always-changing bottom text row: the key's fill, all its Raw pixels
 * received. QEMU sends only on its 30 ms refresh tick, so each sample is that tick's phase
 * (0–30 ms) plus the guest, the encoder and the path; the medians compare the paths.
 */
export async function measureKeyLatency(connect: () => Promise<RfbClient>, samples: number): Promise<number[]> {
  const rfb = await connect();
  try {
    const init = await rfb.handshake();
    rfb.setEncodings([ENCODING_RAW]);
    rfb.requestUpdate(false);
    await rfb.readUpdate();
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      // a short pause of varying length, so the samples do not lock onto QEMU's timer phase
      await new Promise((r) => setTimeout(r, 20 + ((i * 7) % 23)));
      const keysym = i % 2 ? 0x62 : 0x61;
      const t0 = performance.now();
      rfb.sendKey(keysym, true);
      rfb.sendKey(keysym, false);
      for (;;) {
        rfb.requestUpdate(true, { x: 0, y: 0, w: init.width, h: init.height });
        const rects = await withTimeout(rfb.readUpdate(), 5000, 'the screen change after a keypress');
        if (rects.some((r) => r.y < init.height - 16)) break;
      }
      lat.push(performance.now() - t0);
    }
    return lat;
  } finally {
    rfb.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_r, rej) => {
      timer = setTimeout(() => rej(new Error(`bench: timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
