import { mount } from 'svelte';
import App from './App.svelte';
import { AppState } from './lib/app-state.svelte.ts';
import { createClient, defaultTransport } from './lib/client.ts';

const transport = defaultTransport();
const app = new AppState(createClient(transport));
// Exposed for the responsiveness bench and end-to-end tests (read-only use).
(window as unknown as { __siot: AppState }).__siot = app;
void app.start(transport.onConnection?.bind(transport));
mount(App, { target: document.getElementById('app') as HTMLElement, props: { app } });
