// Link report: the progress log (stderr), which runLinkReport's `log` option replaces.

export let say: (s: string) => void = (s) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

export function setSay(log: (s: string) => void): void {
  say = log;
}
