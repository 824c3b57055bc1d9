// Callable `hello.greet` is export `greet` of this file (hello.mjs).
export const greet = (ctx) => ({ greeting: `Hello, ${ctx.requireInput('name')}!` });

export const shout = (ctx) => ({ loud: ctx.requireDependency('greet').greeting.toUpperCase() });
