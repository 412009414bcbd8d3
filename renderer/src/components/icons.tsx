import type { ReactNode, SVGProps } from 'react';

// Icons drawn as SVG, not emoji or dingbats: those need a font many Linux desktops lack, where
// they showed as empty boxes. Each is decorative (aria-hidden); its button or row carries the
// words. Paths are simple geometric shapes drawn for Vireo.

type IconProps = Omit<SVGProps<SVGSVGElement>, 'children'> & { size?: number };

function Svg({ size = 16, children, ...rest }: IconProps & { children: ReactNode }) {
  return (
    <svg viewBox="0 0 16 16" width={size} height={size} fill="currentColor" aria-hidden="true" focusable="false" {...rest}>
      {children}
    </svg>
  );
}

export function FolderIcon(p: IconProps) {
  return <Svg {...p}><path d="M1.5 3.5a1 1 0 0 1 1-1h3.6l1.5 1.6h5.9a1 1 0 0 1 1 1v7.4a1 1 0 0 1-1 1h-11a1 1 0 0 1-1-1z" /></Svg>;
}

export function DiscIcon(p: IconProps) {
  return (
    <Svg {...p}>
      <path fillRule="evenodd" d="M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13zM8 6.3a1.7 1.7 0 1 0 0 3.4 1.7 1.7 0 0 0 0-3.4z" />
    </Svg>
  );
}

export function PlayIcon(p: IconProps) {
  return <Svg {...p}><path d="M4.5 2.8v10.4L13 8z" /></Svg>;
}

export function PauseIcon(p: IconProps) {
  return <Svg {...p}><path d="M4 3h3v10H4zM9 3h3v10H9z" /></Svg>;
}

export function StopIcon(p: IconProps) {
  return <Svg {...p}><path d="M3.5 3.5h9v9h-9z" /></Svg>;
}

export function SunIcon(p: IconProps) {
  return (
    <Svg {...p}>
      <circle cx="8" cy="8" r="3" />
      <path d="M7.4 0.8h1.2v2.4H7.4zM7.4 12.8h1.2v2.4H7.4zM0.8 7.4h2.4v1.2H0.8zM12.8 7.4h2.4v1.2h-2.4zM2.5 3.3l0.8-0.8 1.7 1.7-0.8 0.8zM11 11.8l0.8-0.8 1.7 1.7-0.8 0.8zM2.5 12.7l1.7-1.7 0.8 0.8-1.7 1.7zM11 4.2l1.7-1.7 0.8 0.8-1.7 1.7z" />
    </Svg>
  );
}

export function MoonIcon(p: IconProps) {
  return <Svg {...p}><path d="M10.5 1.8A6.5 6.5 0 1 0 14.2 11 5.2 5.2 0 0 1 10.5 1.8z" /></Svg>;
}

/** Half light, half dark: the theme follows the system. */
export function AutoThemeIcon(p: IconProps) {
  return (
    <Svg {...p}>
      <path fillRule="evenodd" d="M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13zm0 1.3v10.4a5.2 5.2 0 0 0 0-10.4z" />
    </Svg>
  );
}
