import { el } from "./dom.js";
import type { FunctionStatus } from "./types.js";

/** The state word, coloured by state, and the reason it is not simply running as a second line. */
export function stateBadge(status: FunctionStatus): Node[] {
  const reason = status.stateReason ?? status.problem;
  return [
    el("span", { class: `state state-${status.state}`, title: reason }, status.state),
    reason === undefined ? null : el("span", { class: "state-reason" }, reason),
  ].filter((node): node is HTMLSpanElement => node !== null);
}
