/** The function's versions, newest first, each but the current one with a rollback button. */
import { functionPath } from "./api.js";
import { el, fill } from "./dom.js";
import { time } from "./format.js";
import type { Operator } from "./operations.js";
import type { PageContext } from "./page.js";
import { guard } from "./permissions.js";
import type { VersionList } from "./types.js";

export function versionsCard({ api, who, signal }: PageContext, name: string, op: Operator): { card: HTMLElement; load(): Promise<void> } {
  const body = el("tbody");
  const card = el(
    "section",
    { class: "card versions" },
    el("h2", {}, "Versions"),
    el(
      "div",
      { class: "table-scroll" },
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Version"), el("th", {}, "Deployed"), el("th", {}, "Digest"), el("th", {}, "Topics"), el("th", {}))), body),
    ),
  );

  const rollbackButton = (version: number) => {
    const button = guard(el("button", { type: "button", "data-action": "rollback", "data-version": version }, "Roll back"), who, name);
    button.onclick = () =>
      void op.run(`Roll ${name} back to v${version}? Its code and configuration become current again.`, "Roll back", async () => {
        const answer = await api.post<{ version: number }>(functionPath(name, "/rollback"), { version });
        return `${name} is at v${answer.version}`;
      });
    return button;
  };

  return {
    card,
    async load() {
      const list = await api.get<VersionList>(functionPath(name, "/versions"), signal);
      const rows = [...list.versions].sort((a, b) => b.version - a.version);
      fill(
        body,
        ...rows.map((v) => {
          const topics = Array.isArray(v.config.topics) ? v.config.topics.join(", ") : "";
          return el(
            "tr",
            { class: v.current ? "current" : undefined },
            el("td", {}, `v${v.version}`),
            el("td", {}, time(v.deployedAt)),
            el("td", {}, el("code", { title: v.digest }, v.digest.slice(0, 12))),
            el("td", {}, topics),
            el("td", {}, v.current ? el("span", { class: "badge" }, "current") : rollbackButton(v.version)),
          );
        }),
      );
    },
  };
}
