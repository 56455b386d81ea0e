/**
 * The methods of a class's instances, own and inherited, nearest first: the engine class is
 * written in parts that extend each other (engine.ts), so `Object.getOwnPropertyNames` of its
 * prototype alone would miss most of them. Stops before Object.prototype; skips `constructor`.
 */
export function methodsOf(proto: object): Map<string, PropertyDescriptor> {
  const out = new Map<string, PropertyDescriptor>();
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || out.has(name)) continue;
      const d = Object.getOwnPropertyDescriptor(p, name)!;
      if (typeof d.value === 'function') out.set(name, d);
    }
  }
  return out;
}
