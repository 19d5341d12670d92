import { Instance, type InstanceOptions } from '../../app/instance/index.ts';
import { removeDir, tempDir } from './server.ts';

/** Starts real instances in temp dirs and tears all of them down. */
export class Instances {
  private readonly running = new Set<Instance>();
  private readonly dirs: string[] = [];

  dir(name: string): string {
    const d = tempDir(name);
    this.dirs.push(d);
    return d;
  }

  async start(opts: Partial<InstanceOptions> & { instanceId?: string } = {}): Promise<Instance> {
    const inst = await Instance.start({ dataDir: opts.dataDir ?? this.dir(opts.instanceId ?? 'inst'), ...opts });
    this.running.add(inst);
    return inst;
  }

  async stop(inst: Instance): Promise<void> {
    this.running.delete(inst);
    await inst.stop();
  }

  async dispose(): Promise<void> {
    for (const i of this.running) await i.stop().catch(() => undefined);
    this.running.clear();
    for (const d of this.dirs.splice(0)) removeDir(d);
  }
}
