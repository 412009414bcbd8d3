import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { pickClient, type ApiClient, type ConnectionStatus } from './api/client.ts';
import { ClientProvider, ErrorsProvider } from './api/context.tsx';
import { App } from './components/App.tsx';
import { applyTheme, loadTheme } from './lib/theme.ts';
import './styles.css';

// `vireo serve` sends the page at its token URL with a cookie that now holds the token: the
// token leaves the address bar and this history entry before anything else (server.ts).
if (new URLSearchParams(location.search).has('token')) history.replaceState(history.state, '', location.pathname + location.hash);

// Applied before the first render so a dark-theme user never sees a white flash.
applyTheme(loadTheme());

let setStatusOut: (s: ConnectionStatus) => void = () => undefined;
let current: ConnectionStatus = 'connecting';
const client: ApiClient = pickClient((s) => {
  current = s;
  setStatusOut(s);
});

function Root() {
  const [status, setStatus] = useState<ConnectionStatus>(current);
  // Each (re)connection is a new epoch: the views reload what they may have missed offline.
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    let lost = false;
    setStatusOut = (s) => {
      setStatus(s);
      if (s === 'closed' || s === 'refused') lost = true;
      if (s === 'open' && lost) {
        lost = false;
        setEpoch((e) => e + 1);
      }
    };
    setStatus(current);
    return () => {
      setStatusOut = () => undefined;
    };
  }, []);
  return (
    <ClientProvider client={client}>
      <ErrorsProvider>
        <App status={status} epoch={epoch} />
      </ErrorsProvider>
    </ClientProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
