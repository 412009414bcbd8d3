// The building blocks every view uses, from one import: controls (buttons, fields, alerts),
// modal dialogs, menus and tabs. Each lives in its own module; none imports this barrel.
export { Button, Check, ErrorAlert, Field, KV, Progress, Section, cx, inputClass, type ButtonProps, type Variant } from './controls.tsx';
export { Confirm, Dialog } from './dialog.tsx';
export { MenuButton, Tabs } from './menu.tsx';
