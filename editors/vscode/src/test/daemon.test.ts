// The extension's socket client and view model against a real skilld and a
// real registry, started by the Rust harness (tests/tests/editors.rs), which
// passes: SKILLD_SOCKET, SKILLC (the binary, with SKILLD_HOME and HOME set
// for it), REPO (a registry repository holding hello-world 1.0.0 and 1.1.0,
// published), INVALID_SKILL (a folder with known problems) and WORK (a
// scratch folder). No part of the daemon is mocked.

import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

import { ApiError, Client, Event, NotRunning, PROTOCOL, ProtocolMismatch, defaultSocket } from "../client";
import * as model from "../model";

const env = (key: string): string => {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run this through \`cargo test -p skilld-tests --test editors\``);
  return value;
};
const socket = env("SKILLD_SOCKET");
const skillc = (...args: string[]) => execFileSync(env("SKILLC"), args, { encoding: "utf8" });
const repo = env("REPO");
const client = new Client(socket);

/** Wait until `pred` holds (polling), or fail after `ms`. */
async function until(what: string, pred: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("the socket is found where skillc finds it", () => {
  assert.equal(defaultSocket({ SKILLD_SOCKET: "/s/x.sock" }), "/s/x.sock");
  assert.equal(defaultSocket({ SKILLD_HOME: "/h" }), "/h/run/skilld.sock");
  assert.equal(defaultSocket({ XDG_RUNTIME_DIR: "/run/user/7" }), "/run/user/7/skilld/skilld.sock");
  assert.equal(defaultSocket({ XDG_RUNTIME_DIR: "relative", HOME: "/home/u" }, "linux"), "/home/u/.local/share/skilld/run/skilld.sock");
  assert.equal(defaultSocket({ SKILLD_HOME: process.env.SKILLD_HOME }), socket);
});

test("status: the daemon's protocol is the client's", async () => {
  const s = await client.status();
  assert.equal(s.protocol, PROTOCOL);
  assert.match(s.version, /^\d+\.\d+\.\d+/);
});

test("another protocol is told, not misread", async () => {
  const newer = new Client(socket, PROTOCOL + 1);
  await assert.rejects(newer.status(), (e: unknown) => {
    assert.ok(e instanceof ProtocolMismatch);
    assert.equal(e.daemon, PROTOCOL);
    assert.match(e.message, /update skilld/);
    return true;
  });
});

test("no daemon on the socket is NotRunning", async () => {
  const none = new Client(path.join(env("WORK"), "nothing.sock"));
  await assert.rejects(none.status(), NotRunning);
});

test("the daemon's errors keep their code", async () => {
  await assert.rejects(client.install(`${repo}:9.9.9`, { output: path.join(env("WORK"), "never") }), (e: unknown) => {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, "not_found");
    assert.match(e.message, /9\.9\.9/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(env("WORK"), "never", "hello-world")), false);
});

test("install, the view, an upgrade, rollback, pin, remove; events as they happen", async (t) => {
  const events: { e: Event; fresh: boolean }[] = [];
  const states: boolean[] = [];
  const follower = client.follow((e, fresh) => events.push({ e, fresh }), (up) => states.push(up));
  t.after(() => follower.stop());
  await until("the event stream", () => states.includes(true));

  // Install (a stream of frames: progress, if the work takes long enough
  // to report, then the result) into the default target of this home.
  const progress: string[] = [];
  const done = await client.install(`${repo}:1.0.0`, {}, (p) => progress.push(p.phase));
  assert.ok(progress.every((phase) => phase.length > 0), JSON.stringify(progress));
  const installed = done.installed[0];
  assert.equal(installed.name, "hello-world");
  assert.equal(installed.version, "1.0.0");
  assert.ok(fs.existsSync(path.join(installed.path, "SKILL.md")));
  await until("the installed event", () => events.some(({ e, fresh }) => e.kind === "installed" && e.skill === "hello-world" && fresh));

  // The view: one group per folder, the skill with its version; the
  // registry has 1.1.0, so it is upgradable.
  const installs = await client.installs("ask");
  const groups = model.groups(installs);
  const mine = groups.flatMap((g) => g.skills).find((s) => s.install.path === installed.path);
  assert.ok(mine, JSON.stringify(groups));
  assert.equal(mine.label, "hello-world");
  assert.equal(mine.description, "1.0.0 ↑ 1.1.0");
  assert.match(mine.contextValue, /\bupgradable\b/);
  assert.match(mine.contextValue, /\bunpinned\b/);
  assert.match(mine.tooltip, /newest published: 1\.1\.0/);
  assert.equal(groups.find((g) => g.skills.includes(mine))?.description, path.dirname(installed.path));
  assert.deepEqual(model.statusText(true, installs).text, "$(arrow-circle-up) 1");

  // A check under `notify` reports the new version: the notification.
  skillc("policy", "hello-world", "notify");
  await client.request("POST", "/v1/check");
  await until("upgrade_available", () => events.some(({ e }) => e.kind === "upgrade_available"));
  const available = events.find(({ e }) => e.kind === "upgrade_available")!;
  assert.ok(available.fresh);
  const note = model.notification(available.e);
  assert.equal(note?.level, "info");
  assert.match(note!.message, /hello-world .* can be upgraded .*to 1\.1\.0/);
  // What the check found is answered without asking the registries.
  const known = (await client.installs("known")).find((i) => i.path === installed.path);
  assert.equal(known?.latest, "1.1.0");

  // Upgrade by hand: the folder on disk changes.
  const before = fs.readFileSync(path.join(installed.path, "skill.yaml"), "utf8");
  const up = await client.upgrade(["hello-world"], installed.target);
  assert.equal(up.outcomes[0].result, "upgraded", JSON.stringify(up));
  const after = fs.readFileSync(path.join(installed.path, "skill.yaml"), "utf8");
  assert.notEqual(after, before);
  assert.match(after, /1\.1\.0/);
  await until("the upgraded event", () => events.some(({ e }) => e.kind === "upgraded"));

  // Rollback, pin, unpin, remove: each a change the view shows.
  const rolled = await client.rollback(installed);
  assert.equal(rolled.failed.length, 0, JSON.stringify(rolled));
  assert.equal((await client.installs()).find((i) => i.path === installed.path)?.version, "1.0.0");
  await client.pin(installed, true);
  const pinned = model.skill((await client.installs("ask")).find((i) => i.path === installed.path)!);
  assert.match(pinned.contextValue, /\bpinned\b/);
  assert.doesNotMatch(pinned.contextValue, /upgradable/);
  await client.pin(installed, false);
  const history = await client.history("hello-world");
  assert.deepEqual(
    history.map((h) => h.action),
    ["install", "policy", "upgrade", "rollback", "pin", "unpin"],
  );
  const removed = await client.remove(installed);
  assert.equal(removed.failed.length, 0);
  assert.equal(fs.existsSync(installed.path), false);
  assert.equal((await client.installs()).some((i) => i.path === installed.path), false);
});

test("the event stream comes back after the daemon restarts", async (t) => {
  const events: Event[] = [];
  const states: boolean[] = [];
  const follower = client.follow((e) => events.push(e), (up) => states.push(up), 500);
  t.after(() => follower.stop());
  await until("connected", () => states.includes(true));
  skillc("daemon", "stop");
  await until("the loss", () => states.includes(false));
  skillc("daemon", "start");
  await until("reconnected", () => states.lastIndexOf(true) > states.indexOf(false));
  const out = path.join(env("WORK"), "after-restart");
  await client.install(`${repo}:1.1.0`, { output: out });
  await until("an event from the new daemon", () => events.some((e) => e.kind === "installed" && e.target === "dir"));
});

test("validation problems become diagnostics at their lines", async () => {
  const folder = env("INVALID_SKILL");
  const r = await client.validate(folder);
  assert.equal(r.valid, false);
  const d = model.diagnostics(folder, r.problems);
  assert.ok(d.length > 0);
  const first = r.problems[0];
  assert.equal(d[0].file, path.join(folder, first.file || "SKILL.md"));
  assert.equal(d[0].line, Math.max(0, (first.line ?? 1) - 1));
  assert.equal(d[0].severity, first.severity === "error" ? "error" : "warning");
  assert.ok(d[0].message.includes(first.message));
});
