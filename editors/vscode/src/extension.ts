// The VS Code side: the Skills view, its actions, the status bar item,
// notifications from the daemon's event stream, and SKILL.md diagnostics.
// Everything it knows comes from the skilld socket (./client); what it
// shows is computed in ./model.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";

import { ApiError, Client, Installed, NotRunning, ProtocolMismatch, defaultSocket } from "./client";
import * as model from "./model";

class SkillsView implements vscode.TreeDataProvider<model.Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  groups: model.Group[] = [];
  installs: Installed[] = [];
  up = false;

  refresh(groups: model.Group[], installs: Installed[], up: boolean) {
    this.groups = groups;
    this.installs = installs;
    this.up = up;
    this.changed.fire();
  }

  getChildren(node?: model.Node): model.Node[] {
    if (!node) return this.groups;
    return node.kind === "group" ? node.skills : [];
  }

  getTreeItem(node: model.Node): vscode.TreeItem {
    if (node.kind === "group") {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.id;
      item.description = node.description;
      item.tooltip = node.description;
      item.contextValue = "group";
      item.iconPath = new vscode.ThemeIcon("folder");
      return item;
    }
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    item.resourceUri = vscode.Uri.file(node.install.path);
    item.command = { command: "skilld.openSkillMd", title: "Open SKILL.md", arguments: [node] };
    return item;
  }
}

export function activate(context: vscode.ExtensionContext) {
  const config = () => vscode.workspace.getConfiguration("skilld");
  const socket = () => config().get<string>("socketPath") || defaultSocket();
  let client = new Client(socket());
  const view = new SkillsView();
  const tree = vscode.window.createTreeView("skilld.skills", { treeDataProvider: view, showCollapseAll: true });
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = "skilld.focus";
  const diagnostics = vscode.languages.createDiagnosticCollection("skilld");
  const output = vscode.window.createOutputChannel("skilld");
  context.subscriptions.push(tree, status, diagnostics, output);

  let starting: Promise<void> | undefined;
  /** Start the daemon through skillc, once at a time. */
  const start = () =>
    (starting ??= new Promise<void>((resolve, reject) => {
      const skillc = config().get<string>("skillcPath") || "skillc";
      output.appendLine(`starting the daemon: ${skillc} daemon start`);
      execFile(skillc, ["daemon", "start"], { env: process.env }, (err, stdout, stderr) => {
        starting = undefined;
        output.append(stdout + stderr);
        err ? reject(new Error(`${skillc} daemon start failed: ${stderr || err.message}`)) : resolve();
      });
    }));

  /** Run `f` against the daemon, starting it first when none answers and
   *  the setting allows. */
  async function withDaemon<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof NotRunning) || !config().get<boolean>("autostart")) throw e;
      await start();
      return await f();
    }
  }

  let refreshing = false;
  let again = false;
  /** Show the installs again; `ask` the registries for newer versions (on
   *  start and on the Refresh button), else use what the daemon's last
   *  check found (on every event: no registry request). */
  async function refresh(ask = false) {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const upgrades = !(config().get<boolean>("checkUpgrades") ?? true) ? "none" : ask ? "ask" : "known";
      const installs = await withDaemon(() => client.installs(upgrades));
      view.refresh(model.groups(installs), installs, true);
      tree.message = undefined;
      const s = model.statusText(true, installs);
      status.text = s.text;
      status.tooltip = s.tooltip;
    } catch (e) {
      view.refresh([], [], false);
      tree.message = explain(e);
      const s = model.statusText(false, []);
      status.text = s.text;
      status.tooltip = `${s.tooltip}: ${explain(e)}`;
    } finally {
      status.show();
      refreshing = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  }

  // Live: follow the event stream; refresh on each change, notify on the
  // ones that matter; reconnect (the client backs off) when the daemon
  // restarts.
  let follower = client.follow(
    (event, fresh) => {
      if (model.changesView(event)) void refresh();
      const note = fresh ? model.notification(event) : undefined;
      if (!note) return;
      const show =
        note.level === "error"
          ? vscode.window.showErrorMessage
          : note.level === "warning"
            ? vscode.window.showWarningMessage
            : vscode.window.showInformationMessage;
      const actions = event.kind === "upgrade_available" && event.skill ? ["Upgrade"] : [];
      void show(note.message, ...actions).then((chosen) => {
        if (chosen === "Upgrade" && event.skill) void upgrade([event.skill], event.target ?? undefined);
      });
    },
    (connected, why) => {
      output.appendLine(connected ? "connected to the event stream" : `event stream lost: ${why?.message ?? ""}`);
      if (why instanceof ProtocolMismatch) void vscode.window.showErrorMessage(why.message);
      void refresh();
    },
  );
  context.subscriptions.push({ dispose: () => follower.stop() });
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("skilld")) return;
      follower.stop();
      client = new Client(socket());
      follower = client.follow(() => void refresh(), () => void refresh());
      void refresh();
    }),
  );

  async function upgrade(names: string[], target?: string) {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: names.length ? `Upgrading ${names.join(", ")}` : "Upgrading all skills", cancellable: false },
      async (progress) => {
        try {
          const r = await withDaemon(() => client.upgrade(names, target, (p) => progress.report({ message: progressText(p) })));
          const done = r.outcomes.filter((o) => o.result === "upgraded");
          const failed = r.outcomes.filter((o) => o.result === "failed" || o.result === "untrusted" || o.result === "modified");
          if (failed.length) {
            void vscode.window.showWarningMessage(failed.map((o) => `${o.name}: ${o.message ?? o.result}`).join("; "));
          } else {
            void vscode.window.showInformationMessage(
              done.length ? done.map((o) => `${o.name} ${o.from ?? ""} → ${o.to ?? ""}`).join(", ") : "Everything is up to date.",
            );
          }
        } catch (e) {
          void vscode.window.showErrorMessage(explain(e));
        }
      },
    );
    await refresh(true);
  }

  async function change(what: string, f: () => Promise<{ failed: { name: string; message: string }[] }>) {
    try {
      const r = await withDaemon(f);
      if (r.failed.length) void vscode.window.showWarningMessage(r.failed.map((x) => `${x.name}: ${x.message}`).join("; "));
    } catch (e) {
      void vscode.window.showErrorMessage(`${what}: ${explain(e)}`);
    }
    await refresh(true);
  }

  const pick = (node?: model.Node): Installed | undefined =>
    node?.kind === "skill" ? node.install : (tree.selection[0] as model.Skill | undefined)?.install;

  const command = (id: string, f: (...args: any[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, f));

  command("skilld.focus", () => vscode.commands.executeCommand("skilld.skills.focus"));
  command("skilld.refresh", () => refresh(true));
  command("skilld.install", async () => {
    const reference = await vscode.window.showInputBox({
      title: "Install a skill",
      prompt: "An OCI reference: registry/namespace/name:version (or @sha256:...)",
      placeHolder: "quay.io/acme/code-review:1.2.0",
      ignoreFocusOut: true,
    });
    if (!reference) return;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Installing ${reference}`, cancellable: false },
      async (progress) => {
        try {
          const r = await withDaemon(() => client.install(reference.trim(), {}, (p) => progress.report({ message: progressText(p) })));
          void vscode.window.showInformationMessage(
            `Installed ${r.installed.map((i) => `${i.name} ${i.version ?? ""} (${i.target})`).join(", ")}`,
          );
        } catch (e) {
          void vscode.window.showErrorMessage(`Install ${reference}: ${explain(e)}`);
        }
      },
    );
    await refresh(true);
  });
  command("skilld.upgrade", (node?: model.Node) => {
    const i = pick(node);
    if (i) return upgrade([i.name], i.target);
  });
  command("skilld.upgradeAll", () => upgrade([]));
  command("skilld.rollback", (node?: model.Node) => {
    const i = pick(node);
    if (i) return change(`Roll back ${i.name}`, () => client.rollback(i));
  });
  command("skilld.remove", async (node?: model.Node) => {
    const i = pick(node);
    if (!i) return;
    const sure = await vscode.window.showWarningMessage(`Remove ${i.name} from ${path.dirname(i.path)}?`, { modal: true }, "Remove");
    if (sure === "Remove") await change(`Remove ${i.name}`, () => client.remove(i));
  });
  command("skilld.pin", (node?: model.Node) => {
    const i = pick(node);
    if (i) return change(`Pin ${i.name}`, () => client.pin(i, true));
  });
  command("skilld.unpin", (node?: model.Node) => {
    const i = pick(node);
    if (i) return change(`Unpin ${i.name}`, () => client.pin(i, false));
  });
  command("skilld.openFolder", (node?: model.Node) => {
    const i = pick(node);
    if (i) return vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(path.join(i.path, "SKILL.md")));
  });
  command("skilld.openSkillMd", async (node?: model.Node) => {
    const i = pick(node);
    if (i) await vscode.window.showTextDocument(vscode.Uri.file(path.join(i.path, "SKILL.md")), { preview: true });
  });
  command("skilld.history", async (node?: model.Node) => {
    const i = pick(node);
    if (!i) return;
    try {
      const entries = await withDaemon(() => client.history(i.name));
      output.clear();
      output.appendLine(`History of ${i.name}, newest first:`);
      for (const e of [...entries].reverse()) {
        const versions = e.from_version || e.to_version ? ` ${e.from_version ?? "-"} → ${e.to_version ?? "-"}` : "";
        output.appendLine(`${e.at}  ${e.action.padEnd(9)} ${e.target.padEnd(8)} ${e.outcome.padEnd(8)} by ${e.actor}${versions}${e.message ? `  ${e.message}` : ""}`);
      }
      output.show(true);
    } catch (e) {
      void vscode.window.showErrorMessage(explain(e));
    }
  });

  /** The skill folder of `uri` (a folder, or the folder of a file in it),
   *  else the one of the active editor. */
  function skillFolder(uri?: vscode.Uri): string | undefined {
    let at = uri?.fsPath ?? vscode.window.activeTextEditor?.document.uri.fsPath;
    if (!at) return undefined;
    if (fs.existsSync(at) && !fs.statSync(at).isDirectory()) at = path.dirname(at);
    return at;
  }

  async function validate(folder: string, quiet: boolean) {
    try {
      const r = await withDaemon(() => client.validate(folder));
      const byFile = new Map<string, vscode.Diagnostic[]>();
      for (const d of model.diagnostics(folder, r.problems)) {
        const range = new vscode.Range(d.line, 0, d.line, Number.MAX_SAFE_INTEGER);
        const diag = new vscode.Diagnostic(range, d.message, d.severity === "error" ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        diag.source = "skilld";
        byFile.set(d.file, [...(byFile.get(d.file) ?? []), diag]);
      }
      for (const file of ["SKILL.md", "skill.yaml"]) {
        diagnostics.set(vscode.Uri.file(path.join(folder, file)), byFile.get(path.join(folder, file)) ?? []);
      }
      for (const [file, list] of byFile) diagnostics.set(vscode.Uri.file(file), list);
      if (!quiet) {
        const errors = r.problems.filter((p) => p.severity === "error").length;
        void vscode.window.showInformationMessage(
          r.valid ? `${path.basename(folder)} is a valid skill${r.problems.length ? ` (${r.problems.length} warnings)` : ""}.` : `${path.basename(folder)}: ${errors} problems (see Problems).`,
        );
      }
      return r.valid;
    } catch (e) {
      if (!quiet) void vscode.window.showErrorMessage(explain(e));
      return false;
    }
  }

  command("skilld.validate", async (uri?: vscode.Uri) => {
    const folder = skillFolder(uri);
    if (folder) await validate(folder, false);
  });
  command("skilld.build", async (uri?: vscode.Uri) => {
    const folder = skillFolder(uri);
    if (!folder || !(await validate(folder, true))) {
      void vscode.window.showErrorMessage("The skill has problems; see Problems.");
      return;
    }
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Building ${path.basename(folder)}`, cancellable: false },
      async (progress) => {
        try {
          const r = await withDaemon(() => client.build(folder, (p) => progress.report({ message: progressText(p) })));
          void vscode.window.showInformationMessage(`Built ${r.reference} (${r.digest.slice(0, 19)})`);
        } catch (e) {
          void vscode.window.showErrorMessage(explain(e));
        }
      },
    );
  });

  // SKILL.md authoring help: the daemon's validation on each save.
  context.subscriptions.push(
    vscode.workspace.onDidSaveTextDocument((doc) => {
      const name = path.basename(doc.uri.fsPath);
      if (name === "SKILL.md" || name === "skill.yaml") void validate(path.dirname(doc.uri.fsPath), true);
    }),
  );

  void refresh(true);
}

export function deactivate() {}

function progressText(p: { phase: string; current: number; total?: number | null; unit?: string | null; message?: string | null }): string {
  if (p.message) return p.message;
  const of = p.total ? ` of ${p.total}` : "";
  return `${p.phase}: ${p.current}${of}${p.unit ? ` ${p.unit}` : ""}`;
}

function explain(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof NotRunning) return `${e.message}. Start it with \`skillc daemon start\`, or turn on skilld.autostart.`;
  return e instanceof Error ? e.message : String(e);
}
