import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { asWireError, type ApiClient, type WireError } from './client.ts';

const ClientContext = createContext<ApiClient | null>(null);

export function ClientProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): ApiClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useClient outside ClientProvider');
  return c;
}

// Errors from actions without a form of their own (toolbar, snapshot tree) go to one
// dismissible alert stack at the top of the window.
export interface AppError {
  key: number;
  title: string;
  error: WireError;
}

interface ErrorsApi {
  errors: AppError[];
  report: (title: string, err: unknown) => void;
  dismiss: (key: number) => void;
}

const ErrorsContext = createContext<ErrorsApi | null>(null);
let nextKey = 1;

export function ErrorsProvider({ children }: { children: ReactNode }) {
  const [errors, setErrors] = useState<AppError[]>([]);
  const report = useCallback((title: string, err: unknown) => {
    const error = asWireError(err);
    // Keep the newest few: a burst of the same failure should not bury the window.
    setErrors((es) => [...es, { key: nextKey++, title, error }].slice(-4));
  }, []);
  const dismiss = useCallback((key: number) => setErrors((es) => es.filter((e) => e.key !== key)), []);
  const value = useMemo(() => ({ errors, report, dismiss }), [errors, report, dismiss]);
  return <ErrorsContext.Provider value={value}>{children}</ErrorsContext.Provider>;
}

export function useErrors(): ErrorsApi {
  const c = useContext(ErrorsContext);
  if (!c) throw new Error('useErrors outside ErrorsProvider');
  return c;
}
