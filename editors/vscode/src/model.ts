// What the Skills view shows, as plain data (no VS Code here, so it is
// tested against a real daemon's answers): installs grouped by target and
// folder, each with its version, status, upgrade, signer and findings; the
// status bar's text; which events deserve a notification; validation
// problems as diagnostics.

import * as path from "node:path";

import type { Event, Installed, Problem } from "./client";

/** A group: one target folder (a target's home folder, or a project's). */
export interface Group {
  kind: "group";
  id: string;
  /** The target's name (`claude`, `agents`, `dir` for `-o`). */
  label: string;
  /** The folder the skills are in. */
  description: string;
  skills: Skill[];
}

/** One install. */
export interface Skill {
  kind: "skill";
  id: string;
  label: string;
  /** `1.2.0 ↑ 1.3.0 · modified · pinned` */
  description: string;
  tooltip: string;
  /** Space-separated flags for menus: `skill upgradable pinned|unpinned status-ok`. */
  contextValue: string;
  /** A codicon name. */
  icon: string;
  install: Installed;
}

export type Node = Group | Skill;

const ICONS: Record<string, string> = {
  ok: "check",
  modified: "edit",
  missing: "warning",
  unmanaged: "question",
};

/** Whether `i` has a newer published version to go to. */
export function upgradable(i: Installed): boolean {
  return !!i.latest && i.latest !== i.version && !i.pinned;
}

/** The view's item for one install. */
export function skill(i: Installed): Skill {
  const parts: string[] = [i.version ?? "unversioned"];
  if (upgradable(i)) parts[0] += ` ↑ ${i.latest}`;
  if (i.status !== "ok") parts.push(i.status);
  if (i.pinned) parts.push("pinned");
  if (i.findings && i.findings !== "no findings") parts.push(i.findings);
  const tooltip = [
    `${i.name} ${i.version ?? ""}`.trim(),
    `from ${i.source}`,
    `in ${i.path}`,
    `status: ${i.status}`,
    i.latest ? `newest published: ${i.latest}` : undefined,
    i.signer ? `signed by ${i.signer}` : "not signature-checked",
    i.findings ? `scan: ${i.findings}` : undefined,
    i.subscription ? `follows the collection ${i.subscription}` : undefined,
    i.installed_at ? `installed ${i.installed_at}${i.installed_by ? ` by ${i.installed_by}` : ""}` : undefined,
  ]
    .filter((l) => l !== undefined)
    .join("\n");
  const flags = ["skill", `status-${i.status}`, i.pinned ? "pinned" : "unpinned"];
  if (upgradable(i)) flags.push("upgradable");
  return {
    kind: "skill",
    id: i.path,
    label: i.name,
    description: parts.join(" · "),
    tooltip,
    contextValue: flags.join(" "),
    icon: upgradable(i) ? "arrow-circle-up" : ICONS[i.status] ?? "circle-outline",
    install: i,
  };
}

/** Installs grouped by the folder they are in (and its target), groups and
 *  skills sorted by name. */
export function groups(installs: Installed[]): Group[] {
  const by = new Map<string, Group>();
  for (const i of installs) {
    const folder = path.dirname(i.path);
    const id = `${i.target}\u0000${folder}`;
    let g = by.get(id);
    if (!g) {
      g = { kind: "group", id, label: i.target, description: folder, skills: [] };
      by.set(id, g);
    }
    g.skills.push(skill(i));
  }
  const all = [...by.values()];
  for (const g of all) g.skills.sort((a, b) => a.label.localeCompare(b.label));
  return all.sort((a, b) => a.label.localeCompare(b.label) || a.description.localeCompare(b.description));
}

/** The status bar's text for a daemon that is up (with `installs`) or not. */
export function statusText(up: boolean, installs: Installed[]): { text: string; tooltip: string } {
  if (!up) return { text: "$(circle-slash) skilld", tooltip: "The skilld daemon is not running" };
  const n = installs.filter(upgradable).length;
  return n
    ? { text: `$(arrow-circle-up) ${n}`, tooltip: `skilld: ${n} skill${n === 1 ? "" : "s"} can be upgraded` }
    : { text: "$(check) skilld", tooltip: `skilld: ${installs.length} skills installed, all up to date` };
}

/** A notification for an event, when it deserves one. */
export function notification(e: Event): { level: "info" | "warning" | "error"; message: string } | undefined {
  const who = e.skill ? `${e.skill}${e.target ? ` (${e.target})` : ""}` : "a skill";
  switch (e.kind) {
    case "upgrade_available":
      return { level: "info", message: `skilld: ${who} can be upgraded${e.from_version ? ` from ${e.from_version}` : ""}${e.to_version ? ` to ${e.to_version}` : ""}.` };
    case "drift_detected":
      return { level: "warning", message: `skilld: ${who} was changed on disk${e.message ? `: ${e.message}` : ""}.` };
    case "trust_refused":
      return { level: "error", message: `skilld refused ${who}: ${e.message ?? "the trust policy"}.` };
    case "scan_refused":
      return { level: "error", message: `skilld refused ${who}: ${e.message ?? "the scan policy"}.` };
    default:
      return undefined;
  }
}

/** Whether an event changes what the view shows. */
export function changesView(e: Event): boolean {
  return !["check_started", "lagged"].includes(e.kind);
}

/** Validation problems as diagnostics of files under `folder` (0-based
 *  lines, as editors count them). */
export function diagnostics(folder: string, problems: Problem[]) {
  return problems.map((p) => ({
    file: path.join(folder, p.file || "SKILL.md"),
    line: Math.max(0, (p.line ?? 1) - 1),
    message: p.hint ? `${p.field ? `${p.field}: ` : ""}${p.message} (${p.hint})` : `${p.field ? `${p.field}: ` : ""}${p.message}`,
    severity: p.severity === "error" ? "error" : "warning",
  }));
}
