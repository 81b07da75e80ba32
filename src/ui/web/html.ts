// htm bound to preact's h: JSX-like templates without a build step.
import htmDefault from "htm";
import { h } from "preact";

// htm's typings are read as CommonJS under NodeNext; in the browser its ES module's default export is htm.
interface Htm {
  bind<R>(
    hyperscript: (type: never, props: never, ...children: never[]) => R,
  ): (strings: TemplateStringsArray, ...values: unknown[]) => R | R[];
}
const htm = htmDefault as unknown as Htm;

export const html = htm.bind(h);
export type Html = ReturnType<typeof html>;
