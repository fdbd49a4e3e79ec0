// The skilld socket API, for the extension and its tests: plain Node
// (`http` over a Unix socket), no VS Code, no dependency. Routes, bodies and
// answers are those of docs/openapi.json.

import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";

import type { components } from "./api";

/** The wire protocol this client speaks (`skilld-protocol`). */
export const PROTOCOL = 1;

/** A failure the daemon reported: `{"error": {code, message, details}}`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: unknown = undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The daemon speaks another wire protocol than this client. */
export class ProtocolMismatch extends Error {
  constructor(readonly daemon: number, readonly client: number) {
    super(
      `the skilld daemon speaks protocol ${daemon}, this extension ${client}: ` +
        (daemon > client ? "update the extension" : "update skilld"),
    );
    this.name = "ProtocolMismatch";
  }
}

/** No daemon answers on the socket. */
export class NotRunning extends Error {
  constructor(readonly socket: string, readonly cause: Error) {
    super(`no skilld daemon answers on ${socket} (${cause.message})`);
    this.name = "NotRunning";
  }
}

/** The wire types, generated from docs/openapi.json (`npm run compile`). */
type Schemas = components["schemas"];
export type Progress = Schemas["Progress"];
export type Installed = Schemas["Installed"];
export type StatusResponse = Schemas["StatusResponse"];
export type Event = Schemas["Event"];
export type Problem = Schemas["Problem"];
export type ValidateResponse = Schemas["ValidateResponse"];
export type ChangeResponse = Schemas["ChangeResponse"];
export type HistoryEntry = Schemas["HistoryEntry"];
export type InstallResponse = Schemas["InstallResponse"];
export type UpgradeResponse = Schemas["UpgradeResponse"];
export type BuildResponse = Schemas["BuildResponse"];
export type TargetsResponse = Schemas["TargetsResponse"];

/** Where the daemon's socket is, found as skillc finds it (proto's
 *  `Paths`): `SKILLD_SOCKET`, `SKILLD_HOME/run`, `$XDG_RUNTIME_DIR/skilld`,
 *  then the data folder's `run/`. */
export function defaultSocket(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const abs = (v?: string) => (v && path.isAbsolute(v) ? v : undefined);
  if (env.SKILLD_SOCKET) return env.SKILLD_SOCKET;
  const home = abs(env.SKILLD_HOME);
  if (home) return path.join(home, "run", "skilld.sock");
  const runtime = abs(env.XDG_RUNTIME_DIR);
  if (runtime) return path.join(runtime, "skilld", "skilld.sock");
  const data =
    abs(env.XDG_DATA_HOME) ??
    (platform === "darwin"
      ? path.join(env.HOME ?? os.homedir(), "Library", "Application Support")
      : path.join(env.HOME ?? os.homedir(), ".local", "share"));
  return path.join(data, "skilld", "run", "skilld.sock");
}

/** A client of one daemon's socket. */
export class Client {
  constructor(
    readonly socket: string,
    readonly protocol: number = PROTOCOL,
  ) {}

  private open(method: string, route: string, body: unknown, accept: string): Promise<http.IncomingMessage> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socket,
          method,
          path: route,
          headers: {
            host: "skilld",
            accept,
            ...(data ? { "content-type": "application/json", "content-length": data.length } : {}),
          },
        },
        (res) => {
          const spoken = Number(res.headers["skilld-protocol"]);
          if (Number.isFinite(spoken) && spoken !== this.protocol) {
            res.resume();
            reject(new ProtocolMismatch(spoken, this.protocol));
            return;
          }
          resolve(res);
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => {
        reject(["ENOENT", "ECONNREFUSED", "ENOTSOCK"].includes(e.code ?? "") ? new NotRunning(this.socket, e) : e);
      });
      if (data) req.write(data);
      req.end();
    });
  }

  /** One JSON answer. */
  async request<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await this.open(method, route, body, "application/json");
    const text = await readAll(res);
    const value = text ? JSON.parse(text) : {};
    if ((res.statusCode ?? 500) >= 400) throw toError(value, res.statusCode ?? 500);
    return value as T;
  }

  /** A streaming route: `onProgress` for each progress frame, the result's
   *  value, or the error frame thrown. */
  async stream<T>(route: string, body: unknown, onProgress?: (p: Progress) => void): Promise<T> {
    const res = await this.open("POST", route, body, "application/x-ndjson");
    if ((res.statusCode ?? 500) >= 400) {
      throw toError(JSON.parse((await readAll(res)) || "{}"), res.statusCode ?? 500);
    }
    for await (const line of lines(res)) {
      const frame = JSON.parse(line);
      if (frame.type === "progress") onProgress?.(frame as Progress);
      else if (frame.type === "result") return frame.value as T;
      else if (frame.type === "error") throw toError(frame, 500);
    }
    throw new Error(`${route}: the daemon went away before it answered`);
  }

  status(): Promise<StatusResponse> {
    return this.request("GET", "/v1/status");
  }

  /** The installs. `upgrades`: `ask` the registries for newer versions,
   *  answer what the daemon already `known`s from its last check (no
   *  registry request: for refreshes on every event), or `none`. */
  async installs(upgrades: "ask" | "known" | "none" = "none"): Promise<Installed[]> {
    const body = { upgradable: upgrades === "ask", known_upgrades: upgrades === "known" };
    const r = await this.request<{ installs: Installed[] }>("POST", "/v1/installs", body);
    return r.installs;
  }

  targets(): Promise<TargetsResponse> {
    return this.request("GET", "/v1/targets");
  }

  install(
    reference: string,
    options: { targets?: string[]; output?: string; project?: string; force?: boolean } = {},
    onProgress?: (p: Progress) => void,
  ): Promise<InstallResponse> {
    return this.stream("/v1/install", { reference, ...options }, onProgress);
  }

  /** Upgrade the installs named (in `target`, when given), or every one. */
  upgrade(names: string[], target?: string, onProgress?: (p: Progress) => void): Promise<UpgradeResponse> {
    return this.stream("/v1/upgrade", names.length ? { names, target } : { all: true }, onProgress);
  }

  rollback(i: Pick<Installed, "name" | "path">): Promise<ChangeResponse> {
    return this.request("POST", "/v1/rollback", { name: i.name, path: i.path });
  }

  remove(i: Pick<Installed, "name" | "path">): Promise<ChangeResponse> {
    return this.request("POST", "/v1/remove", { name: i.name, path: i.path });
  }

  pin(i: Pick<Installed, "name" | "path">, pinned: boolean): Promise<ChangeResponse> {
    return this.request("POST", "/v1/pin", { name: i.name, path: i.path, pinned });
  }

  validate(folder: string): Promise<ValidateResponse> {
    return this.request("POST", "/v1/validate", { path: folder });
  }

  build(folder: string, onProgress?: (p: Progress) => void): Promise<BuildResponse> {
    return this.stream("/v1/build", { path: folder }, onProgress);
  }

  async history(skill?: string): Promise<HistoryEntry[]> {
    const q = skill ? `?skill=${encodeURIComponent(skill)}` : "";
    return (await this.request<{ entries: HistoryEntry[] }>("GET", `/v1/history${q}`)).entries;
  }

  /** Follow `GET /v1/events?follow=true`: `onEvent` for each event, with
   *  `fresh` false for the recent ones the daemon replays when a client
   *  connects (older than the connection) and never twice for one event;
   *  `onState` when the connection comes and goes. It reconnects after the
   *  daemon went away (a restart, socket activation), waiting 0.25 s, then
   *  twice as long each time up to `maxDelay` ms. `stop()` ends it. */
  follow(
    onEvent: (e: Event, fresh: boolean) => void,
    onState: (connected: boolean, why?: Error) => void = () => {},
    maxDelay = 10_000,
  ): { stop(): void } {
    let stopped = false;
    let current: http.IncomingMessage | undefined;
    let timer: NodeJS.Timeout | undefined;
    let delay = 250;
    const seen = new Set<string>();
    const connect = async () => {
      try {
        const res = await this.open("GET", "/v1/events?follow=true", undefined, "application/x-ndjson");
        if (stopped) return res.destroy();
        current = res;
        delay = 250;
        const since = Date.now() - 2_000;
        onState(true);
        for await (const line of lines(res)) {
          const event = JSON.parse(line) as Event;
          const key = `${event.at} ${event.kind} ${event.skill ?? ""} ${event.target ?? ""} ${event.message ?? ""}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (seen.size > 5_000) seen.clear();
          onEvent(event, Date.parse(event.at) >= since);
        }
        if (!stopped) onState(false, new Error("the daemon closed the event stream"));
      } catch (e) {
        if (stopped) return;
        onState(false, e as Error);
        if (e instanceof ProtocolMismatch) return;
      }
      if (stopped) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, maxDelay);
    };
    void connect();
    return {
      stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        current?.destroy();
      },
    };
  }
}

function toError(value: any, status: number): ApiError {
  const e = value?.error ?? {};
  return new ApiError(e.code ?? "internal", e.message ?? `HTTP ${status}`, status, e.details);
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

async function* lines(res: http.IncomingMessage): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of res) {
    buffered += chunk.toString("utf8");
    let at: number;
    while ((at = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, at).trim();
      buffered = buffered.slice(at + 1);
      if (line) yield line;
    }
  }
  if (buffered.trim()) yield buffered.trim();
}
