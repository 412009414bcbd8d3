// The Vireo logo as a list of filled shapes on a 512×512 canvas: a small olive songbird with the
// red eye and white brow of a red-eyed vireo, perched on a branch. make-icons.ts renders the
// same list to build/icon.svg and to every PNG size, so the two never drift apart.

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; r: number; fill: string }
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number; rot: number; fill: string }
  | { kind: 'poly'; points: ReadonlyArray<readonly [number, number]>; fill: string };

export const CANVAS = 512;

export const LOGO: readonly Shape[] = [
  { kind: 'rect', x: 0, y: 0, w: 512, h: 512, r: 112, fill: '#1f5560' },
  { kind: 'poly', points: [[96, 402], [430, 356], [436, 380], [102, 428]], fill: '#7a5a32' },
  { kind: 'poly', points: [[150, 318], [44, 392], [70, 420], [186, 352]], fill: '#5f6e2a' },
  { kind: 'ellipse', cx: 250, cy: 292, rx: 148, ry: 100, rot: -22, fill: '#8c9a45' },
  { kind: 'ellipse', cx: 300, cy: 316, rx: 96, ry: 58, rot: -22, fill: '#f2edc8' },
  { kind: 'ellipse', cx: 218, cy: 286, rx: 108, ry: 52, rot: -28, fill: '#5f6e2a' },
  { kind: 'ellipse', cx: 350, cy: 190, rx: 80, ry: 78, rot: 0, fill: '#7f8e3c' },
  { kind: 'ellipse', cx: 338, cy: 150, rx: 66, ry: 30, rot: -8, fill: '#6f7680' },
  { kind: 'ellipse', cx: 362, cy: 175, rx: 58, ry: 11, rot: -8, fill: '#f7f6ee' },
  { kind: 'poly', points: [[418, 176], [482, 198], [418, 214]], fill: '#3a3a38' },
  { kind: 'ellipse', cx: 380, cy: 198, rx: 15, ry: 15, rot: 0, fill: '#c0281e' },
  { kind: 'ellipse', cx: 382, cy: 198, rx: 6, ry: 6, rot: 0, fill: '#141414' },
];
