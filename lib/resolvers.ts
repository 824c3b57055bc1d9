/**
 * How a template's `handler.callable` becomes a handler: a chain of
 * resolvers, asked in order — explicit registrations (`explicit_mapping`)
 * first, then e.g. a module lookup (`module_lookup`) over a folder or a map
 * of modules, then any resolver of your own. A template's
 * `handler.resolver` names the one resolver to ask, skipping the chain.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { StepHandler, StepHandlerClass } from './handler';
import { detectRuntime } from './runtime-detection';

/** Finds handlers by callable. Add your own with `worker.addResolver(...)` or `resolvers: [...]`. */
export interface HandlerResolver {
  /** The name templates give in `handler.resolver` to use this resolver only. */
  readonly name: string;
  /** Called once by `worker.start()` (and `worker.validate()`) before any lookup: load modules, ... */
  prepare?(): void | Promise<void>;
  /** The handler for `callable`, or undefined when this resolver has none. */
  resolve(callable: string): StepHandler | undefined;
  /** The callables it knows, for error messages. */
  callables?(): string[];
}

const HANDLER_CLASS = Symbol.for('tasker.worker.handlerClass');

/**
 * Marks a constructor as a handler class. Needed only for a class compiled
 * to an ES5 `function` (its `prototype` is writable, like a plain function's).
 */
export function handlerClass<C extends abstract new (...args: any[]) => object>(constructor: C): C {
  if (typeof constructor !== 'function') throw new TypeError('handlerClass: give a class (constructor function)');
  Object.defineProperty(constructor, HANDLER_CLASS, { value: true });
  return constructor;
}

/**
 * Whether a handler is a class: a `class` has a read-only `prototype`
 * property (a plain function's is writable; arrow and async functions have
 * none), or it was marked with `handlerClass`. Only property descriptors are
 * read: no user code runs.
 */
export function isHandlerClass(handler: unknown): handler is StepHandlerClass {
  if (typeof handler !== 'function') return false;
  for (let c: object | null = handler; c !== null && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (Object.getOwnPropertyDescriptor(c, HANDLER_CLASS)?.value === true) return true;
  }
  const prototype = Object.getOwnPropertyDescriptor(handler, 'prototype');
  return prototype !== undefined && prototype.writable === false;
}

/** Whether a value can be a handler at all (a function, a class, an object). */
export function isHandlerLike(value: unknown): value is StepHandler {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}

const CALLABLE = /^[A-Za-z0-9_.:\-/]{1,500}$/;

/** Checks a callable name as `register` does. */
export function checkCallable(where: string, callable: unknown): string {
  if (typeof callable !== 'string' || !CALLABLE.test(callable)) {
    throw new TypeError(`${where}: '${String(callable)}' is not a handler callable (letters, digits, . _ : - /)`);
  }
  return callable;
}

/** The handlers registered by callable (`worker.register`): the resolver named `explicit_mapping`. */
export class ExplicitMappingResolver implements HandlerResolver {
  readonly name = 'explicit_mapping';
  private readonly handlers = new Map<string, StepHandler>();

  register(callable: string, handler: StepHandler): void {
    checkCallable('register', callable);
    if (!isHandlerLike(handler)) throw new TypeError(`register('${callable}'): the handler must be a function, a class or an object`);
    if (this.handlers.has(callable)) throw new Error(`register: '${callable}' is already registered`);
    this.handlers.set(callable, handler);
  }

  get size(): number {
    return this.handlers.size;
  }

  resolve(callable: string): StepHandler | undefined {
    return this.handlers.get(callable);
  }

  callables(): string[] {
    return [...this.handlers.keys()];
  }
}

/** Modules by key, e.g. `{ orders: await import('./orders.js') }`: callable `orders.validate` is its export `validate`. */
export type HandlerModules = Record<string, object>;

/** Where a module resolver finds its modules: folders or files (paths), or modules by key. */
export type HandlerSource = string | HandlerModules;

const JS_EXTENSIONS = ['.js', '.mjs', '.cjs'];
const TS_EXTENSIONS = ['.ts', '.mts', '.cts'];

/** Whether this runtime imports TypeScript files itself (Bun, Deno; Node with type stripping). */
export function canImportTypeScript(): boolean {
  const runtime = detectRuntime();
  if (runtime === 'bun' || runtime === 'deno') return true;
  return Boolean((process.features as { typescript?: unknown }).typescript);
}

// A real dynamic import: this file is compiled to CommonJS, where tsc would
// turn `import()` into `require()`, which cannot load every ES module.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

export interface ModuleResolverOptions {
  /** The name templates use in `handler.resolver` (default `module_lookup`). */
  name?: string;
  /** Base of relative paths (default: the current directory). */
  cwd?: string;
}

interface Found {
  handler: StepHandler;
  from: string;
}

/**
 * Finds handlers by callable in modules: a module under key `orders`
 * (the file `orders.js` of a folder, or `orders/index.js`; `billing/invoices.js`
 * is `billing.invoices`) provides callable `orders.<export>` for each export,
 * and `orders` itself for its default export. A folder is searched
 * recursively; `.js`, `.mjs` and `.cjs` files are loaded, and `.ts`, `.mts`,
 * `.cts` ones where the runtime imports TypeScript (Bun, Deno), preferred then over
 * a compiled copy beside them. Declaration files, `node_modules` and names
 * starting with `.` or `_` are skipped.
 */
export class ModuleResolver implements HandlerResolver {
  readonly name: string;
  private readonly index = new Map<string, Found>();
  private loading: Promise<void> | undefined;
  private readonly sources: HandlerSource[];
  private readonly cwd: string;

  constructor(sources: HandlerSource | HandlerSource[], options: ModuleResolverOptions = {}) {
    const list = Array.isArray(sources) ? sources : [sources];
    if (list.length === 0) throw new TypeError('ModuleResolver: give at least one folder, file or map of modules');
    for (const source of list) {
      const ok = typeof source === 'string' ? source.length > 0 : typeof source === 'object' && source !== null;
      if (!ok) throw new TypeError(`ModuleResolver: ${String(source)} is not a folder, a file or a map of modules`);
    }
    this.sources = list;
    this.name = options.name ?? 'module_lookup';
    this.cwd = options.cwd ?? process.cwd();
  }

  prepare(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  resolve(callable: string): StepHandler | undefined {
    return this.index.get(callable)?.handler;
  }

  callables(): string[] {
    return [...this.index.keys()].sort();
  }

  /** Where a callable's handler comes from (`file#export`), for messages. */
  origin(callable: string): string | undefined {
    return this.index.get(callable)?.from;
  }

  private async load(): Promise<void> {
    for (const source of this.sources) {
      if (typeof source === 'string') {
        for (const [key, file] of this.files(source)) {
          let module: Record<string, unknown>;
          try {
            module = await importModule(pathToFileURL(file).href);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            throw new Error(`ModuleResolver: cannot load handler module ${file}: ${reason}`, { cause: error });
          }
          this.add(key, module, relative(this.cwd, file) || file);
        }
      } else {
        for (const [key, module] of Object.entries(source)) {
          if (typeof module !== 'object' && typeof module !== 'function') {
            throw new TypeError(`ModuleResolver: module '${key}' of the map is ${module === null ? 'null' : typeof module}, not a module`);
          }
          this.add(key, module as Record<string, unknown>, `modules['${key}']`);
        }
      }
    }
  }

  /** Module key → file, for a folder or a file. */
  private files(source: string): Map<string, string> {
    const path = resolvePath(this.cwd, source);
    if (!existsSync(path)) throw new Error(`ModuleResolver: ${path} does not exist (handlers: give a folder or a module file)`);
    const typescript = canImportTypeScript();
    const byKey = new Map<string, string>();
    const consider = (file: string, root: string) => {
      const ext = extname(file);
      const name = basename(file);
      if (/\.d\.[cm]?ts$/.test(name) || name.startsWith('.') || name.startsWith('_')) return;
      const isTs = TS_EXTENSIONS.includes(ext);
      if (!JS_EXTENSIONS.includes(ext) && !isTs) return;
      let key = relative(root, file).slice(0, -ext.length).split(sep).join('.');
      if (key.endsWith('.index')) key = key.slice(0, -'.index'.length);
      if (isTs && !typescript) {
        if (!byKey.has(key)) byKey.set(key, file);
        return;
      }
      const existing = byKey.get(key);
      const existingTs = existing !== undefined && TS_EXTENSIONS.includes(extname(existing));
      if (existing === undefined || (existingTs && !typescript) || (isTs && !existingTs)) byKey.set(key, file);
      else if (existingTs === isTs) throw new Error(`ModuleResolver: ${existing} and ${file} are both module '${key}'`);
    };
    if (statSync(path).isDirectory()) {
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
          const full = join(dir, entry.name);
          if (entry.isDirectory()) walk(full);
          else if (entry.isFile()) consider(full, path);
        }
      };
      walk(path);
    } else {
      const ext = extname(path);
      if (![...JS_EXTENSIONS, ...TS_EXTENSIONS].includes(ext)) throw new Error(`ModuleResolver: ${path} is not a JavaScript or TypeScript module`);
      byKey.set(basename(path, ext), path);
    }
    for (const file of byKey.values()) {
      if (TS_EXTENSIONS.includes(extname(file)) && !typescript) {
        throw new Error(
          `ModuleResolver: ${file} is TypeScript, which this runtime (Node.js ${process.versions.node}) does not import; ` +
            'compile it to JavaScript beside it, or run with Bun or Deno',
        );
      }
    }
    return byKey;
  }

  private add(key: string, module: Record<string, unknown>, from: string): void {
    const put = (callable: string, value: unknown, what: string) => {
      if (!isHandlerLike(value)) return;
      const existing = this.index.get(callable);
      if (existing) throw new Error(`ModuleResolver: callable '${callable}' is provided by ${existing.from} and by ${from}#${what}`);
      this.index.set(callable, { handler: value, from: `${from}#${what}` });
    };
    const names = Object.keys(module).filter((n) => n !== 'default' && n !== '__esModule' && n !== 'module.exports');
    for (const name of names) put(`${key}.${name}`, module[name], name);
    const fallback = module.default;
    if (fallback === undefined) return;
    put(key, fallback, 'default');
    // A CommonJS module's exports arrive as its default export: its properties are exports too.
    if (typeof fallback === 'object' && fallback !== null && Object.getPrototypeOf(fallback) === Object.prototype) {
      for (const [name, value] of Object.entries(fallback)) if (!names.includes(name)) put(`${key}.${name}`, value, `default.${name}`);
    }
  }
}
