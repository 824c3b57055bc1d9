/**
 * Start-up check: every step of the templates this worker serves has a
 * handler (and the method it names), and every resolver a template names
 * exists. All problems are reported at once, before the worker boots.
 */
import type { TemplateInfo } from '../index';

/** A template step whose handler cannot be found. */
export interface MissingHandler {
  /** The template file. */
  readonly file: string;
  readonly namespace: string;
  /** The template's name and version. */
  readonly template: string;
  readonly version: string;
  readonly step: string;
  readonly callable: string;
  readonly method: string;
  readonly resolver?: string;
  /** Why it cannot be found. */
  readonly reason: string;
}

/** What `worker.validate()` found. */
export interface ValidationReport {
  /** The template folder read (absent when the config names none: nothing was checked). */
  readonly templatePath?: string;
  /** The namespaces checked. */
  readonly namespaces: string[];
  /** The templates of those namespaces. */
  readonly templates: TemplateInfo[];
  /** Steps checked. */
  readonly steps: number;
  readonly missing: MissingHandler[];
}

/** `worker.start()` found template steps without a handler; `missing` lists them. */
export class HandlerValidationError extends Error {
  readonly code = 'MISSING_HANDLERS';
  constructor(readonly missing: MissingHandler[]) {
    super(describeMissing(missing));
    this.name = 'HandlerValidationError';
  }
}

/** One line per missing handler, and what to do. */
export function describeMissing(missing: MissingHandler[]): string {
  const lines = missing.map(
    (m) => `  - ${m.namespace}/${m.template}@${m.version} step '${m.step}' (${m.file}): ${m.reason}`,
  );
  const noun = missing.length === 1 ? 'template step has' : 'template steps have';
  return (
    `${missing.length} ${noun} no handler:\n${lines.join('\n')}\n` +
    'Register them (worker.register, or a handler module), or start with validateHandlers: false ' +
    '(--no-validate) if other workers serve these steps.'
  );
}

/** The templates of the served namespaces (all of them when the config names none). */
export function servedTemplates(templates: TemplateInfo[], namespaces: string[]): TemplateInfo[] {
  return namespaces.length === 0 ? templates : templates.filter((t) => namespaces.includes(t.namespace));
}

/** Checks each step with `check` (undefined = fine, else why not). */
export function findMissing(
  templates: TemplateInfo[],
  check: (callable: string, method: string, resolver: string | undefined) => string | undefined,
): { steps: number; missing: MissingHandler[] } {
  const missing: MissingHandler[] = [];
  let steps = 0;
  for (const template of templates) {
    for (const step of template.steps) {
      steps++;
      const method = step.method || 'call';
      const reason = check(step.callable, method, step.resolver ?? undefined);
      if (reason === undefined) continue;
      missing.push({
        file: template.file,
        namespace: template.namespace,
        template: template.name,
        version: template.version,
        step: step.name,
        callable: step.callable,
        method,
        resolver: step.resolver ?? undefined,
        reason,
      });
    }
  }
  return { steps, missing };
}
