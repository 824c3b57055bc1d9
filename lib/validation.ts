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

/**
 * Something that works but is worth knowing: a function handler serving a
 * step whose template names a method, or a template that could say more.
 * Reported once at start (`info` or `warn`), never a failure.
 */
export interface ValidationNote {
  readonly level: 'info' | 'warn';
  readonly file: string;
  readonly namespace: string;
  readonly template: string;
  readonly step: string;
  readonly message: string;
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
  /** Notes on steps that resolve, once each: see ValidationNote. */
  readonly notes: ValidationNote[];
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

/** What checking one step found: a reason it cannot run, or a note on how it will. */
export type StepCheck = { reason: string } | { note: { level: 'info' | 'warn'; message: string } } | undefined;

/** Notes the templates themselves deserve, whatever the handlers. */
function templateNotes(template: TemplateInfo): ValidationNote[] {
  return template.steps
    .filter((step) => step.stepType === 'batchable' && !step.workerTemplateName)
    .map((step) => ({
      level: 'warn' as const,
      file: template.file,
      namespace: template.namespace,
      template: template.name,
      step: step.name,
      message:
        `batchable step '${step.name}' names no handler.initialization.worker_template_name: after noBatches() tasker ` +
        'creates no placeholder worker and finishes the task without running the steps that depend on the batch workers; ' +
        'name the batch_worker template step there if they should run',
    }));
}

/** Checks each step with `check`; collects what is missing and the notes. */
export function findMissing(
  templates: TemplateInfo[],
  check: (callable: string, method: string, resolver: string | undefined) => StepCheck,
): { steps: number; missing: MissingHandler[]; notes: ValidationNote[] } {
  const missing: MissingHandler[] = [];
  const notes: ValidationNote[] = [];
  let steps = 0;
  for (const template of templates) {
    notes.push(...templateNotes(template));
    for (const step of template.steps) {
      steps++;
      const method = step.method || 'call';
      const found = check(step.callable, method, step.resolver ?? undefined);
      if (found === undefined) continue;
      if ('note' in found) {
        notes.push({ ...found.note, file: template.file, namespace: template.namespace, template: template.name, step: step.name });
        continue;
      }
      const reason = found.reason;
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
  return { steps, missing, notes: dedupeNotes(notes) };
}

/** One note per message (a callable used by several steps is reported once). */
function dedupeNotes(notes: ValidationNote[]): ValidationNote[] {
  const seen = new Set<string>();
  return notes.filter((n) => !seen.has(n.message) && seen.add(n.message));
}
