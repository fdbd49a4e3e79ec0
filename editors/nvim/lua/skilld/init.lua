-- skilld for Neovim: the installed agent skills in a buffer (`:Skills`),
-- with the actions of the VS Code view; `:SkillsInstall REF`; notifications
-- from the daemon's event stream; SKILL.md validation as diagnostics. It
-- talks to the skilld daemon's Unix socket (./http.lua), nothing else.

local http = require("skilld.http")

local M = {}

M.config = {
  socket = nil, -- nil: found as skillc finds it
  autostart = true, -- run `skillc daemon start` when no daemon answers
  skillc = "skillc",
  check_upgrades = true, -- ask the registries for newer versions on refresh
  notify = true, -- follow the event stream and notify
  validate_on_save = true,
}

local ns = vim.api.nvim_create_namespace("skilld")

local function socket()
  return M.config.socket or http.default_socket()
end

--- The error a daemon's answer carries, as a string (`code: message`).
local function failure(value)
  local e = type(value) == "table" and value.error or nil
  if type(e) == "table" then
    return (e.code or "internal") .. ": " .. (e.message or "")
  end
end

local starting = false
--- Start the daemon with `skillc daemon start`; `cb(err)`.
local function start_daemon(cb)
  if starting then
    return vim.defer_fn(function()
      cb(nil)
    end, 500)
  end
  starting = true
  vim.fn.jobstart({ M.config.skillc, "daemon", "start" }, {
    on_exit = function(_, code)
      starting = false
      cb(code ~= 0 and (M.config.skillc .. " daemon start failed (exit " .. code .. ")") or nil)
    end,
  })
end

local function with_daemon(run, cb)
  run(function(err, value)
    if err and err:find("^no skilld daemon answers") and M.config.autostart then
      start_daemon(function(serr)
        if serr then
          return cb(err .. "; " .. serr, nil)
        end
        run(cb)
      end)
    else
      cb(err, value)
    end
  end)
end

local function check_protocol(headers)
  local spoken = tonumber(headers["skilld-protocol"] or "")
  if spoken and spoken ~= http.PROTOCOL then
    local what = spoken > http.PROTOCOL and "update the plugin" or "update skilld"
    return ("the skilld daemon speaks protocol %d, this plugin %d: %s"):format(spoken, http.PROTOCOL, what)
  end
end

--- A JSON request: `cb(err, value)`.
function M.request(method, path, body, cb)
  with_daemon(function(done)
    local mismatch
    http.send(socket(), method, path, body, false, {
      on_head = function(_, headers)
        mismatch = check_protocol(headers)
      end,
      on_done = function(err, text)
        if err then
          return done(err, nil)
        end
        if mismatch then
          return done(mismatch, nil)
        end
        local ok, value = pcall(vim.json.decode, text ~= "" and text or "{}")
        if not ok then
          return done("the daemon's answer is not JSON: " .. text:sub(1, 200), nil)
        end
        done(failure(value), value)
      end,
    })
  end, cb)
end

--- A streaming route: `on_progress(frame)` for each progress frame, then
--- `cb(err, value)` with the result's value or the error.
function M.stream(path, body, on_progress, cb)
  with_daemon(function(done)
    local answered, mismatch = false, nil
    http.send(socket(), "POST", path, body, true, {
      on_head = function(_, headers)
        mismatch = check_protocol(headers)
      end,
      on_line = function(line)
        if answered then
          return
        end
        local ok, frame = pcall(vim.json.decode, line)
        if not ok then
          return
        end
        if frame.type == "progress" then
          if on_progress then
            on_progress(frame)
          end
        elseif frame.type == "result" then
          answered = true
          done(nil, frame.value)
        elseif frame.type == "error" then
          answered = true
          done((frame.error.code or "internal") .. ": " .. (frame.error.message or ""), nil)
        elseif frame.error then
          answered = true
          done(failure(frame), nil)
        end
      end,
      on_done = function(err)
        if answered then
          return
        end
        answered = true
        done(mismatch or err or (path .. ": the daemon went away before it answered"), nil)
      end,
    })
  end, cb)
end

--- Follow `GET /v1/events?follow=true`: `on_event(event, fresh)` (fresh:
--- newer than the connection, not a replayed recent one), `on_state(up,
--- why)`; reconnects with a delay doubling from 250 ms to `max_delay`.
--- Returns a handle with :stop().
function M.follow(on_event, on_state, max_delay)
  max_delay = max_delay or 10000
  local stopped, delay, handle, timer = false, 250, nil, nil
  local seen, count = {}, 0
  local connect
  local function again(why)
    if stopped then
      return
    end
    if on_state then
      on_state(false, why)
    end
    timer = vim.defer_fn(connect, delay)
    delay = math.min(delay * 2, max_delay)
  end
  connect = function()
    if stopped then
      return
    end
    local since = os.time() - 2
    handle = http.send(socket(), "GET", "/v1/events?follow=true", nil, true, {
      on_head = function(status)
        if status == 200 then
          delay = 250
          if on_state then
            on_state(true)
          end
        end
      end,
      on_line = function(line)
        local ok, event = pcall(vim.json.decode, line)
        if not ok or stopped then
          return
        end
        local key = table.concat({ event.at or "", event.kind or "", event.skill or "", event.target or "", event.message or "" }, " ")
        if seen[key] then
          return
        end
        seen[key] = true
        count = count + 1
        if count > 5000 then
          seen, count = {}, 0
        end
        on_event(event, M.epoch(event.at) >= since)
      end,
      on_done = function(err)
        again(err or "the daemon closed the event stream")
      end,
    })
  end
  connect()
  return {
    stop = function()
      stopped = true
      if handle then
        handle.close()
      end
      if timer then
        pcall(function()
          timer:stop()
        end)
      end
    end,
  }
end

--- Seconds since the epoch of an RFC 3339 time (UTC `Z` or an offset).
function M.epoch(at)
  local y, mo, d, h, mi, s, zone = (at or ""):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?%d*(.*)$")
  if not y then
    return 0
  end
  local days_before = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 }
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local leap = (mo > 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0))) and 1 or 0
  local days = (y - 1970) * 365 + math.floor((y - 1969) / 4) - math.floor((y - 1901) / 100) + math.floor((y - 1601) / 400)
  days = days + days_before[mo] + leap + d - 1
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  local sign, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
  if sign then
    local off = tonumber(oh) * 3600 + tonumber(om) * 60
    t = sign == "+" and t - off or t + off
  end
  return t
end

-- The model: what a line of the buffer shows.

--- Whether an install has a newer published version to go to.
function M.upgradable(i)
  return i.latest ~= nil and i.latest ~= vim.NIL and i.latest ~= i.version and not i.pinned
end

local function present(v)
  return v ~= nil and v ~= vim.NIL and v ~= ""
end

--- One install as a line: name, version (↑ newest), status, pin, findings.
function M.describe(i)
  local version = present(i.version) and i.version or "unversioned"
  if M.upgradable(i) then
    version = version .. " ↑ " .. i.latest
  end
  local parts = { version }
  if i.status ~= "ok" then
    table.insert(parts, i.status)
  end
  if i.pinned then
    table.insert(parts, "pinned")
  end
  if present(i.signer) then
    table.insert(parts, "signed")
  end
  if present(i.findings) and i.findings ~= "no findings" then
    table.insert(parts, i.findings)
  end
  return table.concat(parts, " · ")
end

--- Installs grouped by target folder: { {label, folder, installs}, ... },
--- sorted by target, then folder; installs by name.
function M.groups(installs)
  local by, order = {}, {}
  for _, i in ipairs(installs) do
    local folder = vim.fn.fnamemodify(i.path, ":h")
    local key = i.target .. "\0" .. folder
    if not by[key] then
      by[key] = { label = i.target, folder = folder, installs = {} }
      table.insert(order, by[key])
    end
    table.insert(by[key].installs, i)
  end
  table.sort(order, function(a, b)
    if a.label ~= b.label then
      return a.label < b.label
    end
    return a.folder < b.folder
  end)
  for _, g in ipairs(order) do
    table.sort(g.installs, function(a, b)
      return a.name < b.name
    end)
  end
  return order
end

--- The buffer's lines, and which install each line shows.
function M.render(installs)
  local lines, at = {
    "skilld: installed skills   <CR> SKILL.md  o folder  u upgrade  U all  r roll back",
    "                           p pin/unpin  d remove  h history  i install  R refresh",
    "",
  }, {}
  local groups = M.groups(installs)
  if #groups == 0 then
    table.insert(lines, "No skills installed. Press i to install one by reference.")
  end
  for _, g in ipairs(groups) do
    table.insert(lines, g.label .. "  " .. g.folder)
    for _, i in ipairs(g.installs) do
      table.insert(lines, "  " .. i.name .. "  " .. M.describe(i))
      at[#lines] = i
    end
    table.insert(lines, "")
  end
  return lines, at
end

--- A notification for an event, when it deserves one: (message, level).
function M.notification(e)
  local who = present(e.skill) and (e.skill .. (present(e.target) and (" (" .. e.target .. ")") or "")) or "a skill"
  if e.kind == "upgrade_available" then
    local to = present(e.to_version) and (" to " .. e.to_version) or ""
    return "skilld: " .. who .. " can be upgraded" .. to, vim.log.levels.INFO
  elseif e.kind == "drift_detected" then
    return "skilld: " .. who .. " was changed on disk", vim.log.levels.WARN
  elseif e.kind == "trust_refused" or e.kind == "scan_refused" then
    return "skilld refused " .. who .. ": " .. (present(e.message) and e.message or e.kind), vim.log.levels.ERROR
  end
end

--- Validation problems as vim.diagnostic items per file: { [file] = {...} }.
function M.diagnostics(folder, problems)
  local out = {}
  for _, p in ipairs(problems) do
    local file = folder .. "/" .. ((present(p.file) and p.file) or "SKILL.md")
    local line = present(p.line) and math.max(0, p.line - 1) or 0
    local message = (present(p.field) and (p.field .. ": ") or "") .. p.message
    if present(p.hint) then
      message = message .. " (" .. p.hint .. ")"
    end
    out[file] = out[file] or {}
    table.insert(out[file], {
      lnum = line,
      col = 0,
      message = message,
      source = "skilld",
      severity = p.severity == "error" and vim.diagnostic.severity.ERROR or vim.diagnostic.severity.WARN,
    })
  end
  return out
end

-- The buffer.

local state = { buf = nil, at = {}, installs = {} }

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = "skilld" })
end

--- Refresh the buffer (when it is open); `cb()` when done. With `ask`
--- the registries are asked for newer versions; without, the daemon
--- answers what its last check found (no registry request: refreshes on
--- events).
---
--- Refreshes overlap (one asking the registries is slower than one made on
--- an event), so answers can come back out of order: an answer is shown
--- only when no refresh started after it has been shown already, so an old
--- answer never undoes a newer one.
local refreshes_started, refresh_shown = 0, 0
function M.refresh(cb, ask)
  local body = {
    upgradable = M.config.check_upgrades and ask == true,
    known_upgrades = M.config.check_upgrades and ask ~= true,
  }
  refreshes_started = refreshes_started + 1
  local this = refreshes_started
  M.request("POST", "/v1/installs", body, function(err, value)
    if this < refresh_shown then
      if cb then
        cb(err)
      end
      return
    end
    refresh_shown = this
    local lines, at
    if err then
      lines, at = { "skilld: " .. err }, {}
    else
      state.installs = value.installs
      lines, at = M.render(value.installs)
    end
    state.at = at
    if state.buf and vim.api.nvim_buf_is_valid(state.buf) then
      vim.bo[state.buf].modifiable = true
      vim.api.nvim_buf_set_lines(state.buf, 0, -1, false, lines)
      vim.bo[state.buf].modifiable = false
    end
    if cb then
      cb(err)
    end
  end)
end

local function current()
  local i = state.at[vim.api.nvim_win_get_cursor(0)[1]]
  if not i then
    notify("no skill on this line", vim.log.levels.WARN)
  end
  return i
end

--- Report a change (`ChangeResponse`) and refresh.
local function changed(what, cb)
  return function(err, value)
    if err then
      notify(what .. ": " .. err, vim.log.levels.ERROR)
    elseif value and value.failed and #value.failed > 0 then
      notify(what .. ": " .. value.failed[1].message, vim.log.levels.WARN)
    end
    M.refresh(cb, true)
  end
end

--- Refresh (asking the registries: something changed), then `cb(err, value)`.
local function refreshed(cb, err, value)
  M.refresh(function()
    if cb then
      cb(err, value)
    end
  end, true)
end

--- Upgrade the named installs (all when `names` is empty); `cb(err, value)`.
function M.upgrade(names, target, cb)
  local body = #names > 0 and { names = names, target = target } or { all = true }
  M.stream("/v1/upgrade", body, nil, function(err, value)
    if err then
      notify("upgrade: " .. err, vim.log.levels.ERROR)
    else
      local said = {}
      for _, o in ipairs(value.outcomes) do
        table.insert(said, o.name .. ": " .. o.result .. (present(o.to) and (" " .. o.to) or ""))
      end
      notify(#said > 0 and table.concat(said, ", ") or "nothing to upgrade")
    end
    refreshed(cb, err, value)
  end)
end

--- Install `reference` (into the configured default targets).
function M.install(reference, cb)
  local last = 0
  M.stream("/v1/install", { reference = reference }, function(p)
    local now = vim.loop.now()
    if now - last > 1000 then
      last = now
      notify(("installing %s: %s %s%s"):format(reference, p.phase, p.current, present(p.total) and ("/" .. p.total) or ""))
    end
  end, function(err, value)
    if err then
      notify("install " .. reference .. ": " .. err, vim.log.levels.ERROR)
    else
      local names = {}
      for _, i in ipairs(value.installed) do
        table.insert(names, i.name .. " " .. (present(i.version) and i.version or "") .. " (" .. i.target .. ")")
      end
      notify("installed " .. table.concat(names, ", "))
    end
    refreshed(cb, err, value)
  end)
end

local actions = {
  ["<CR>"] = function()
    local i = current()
    if i then
      vim.cmd("edit " .. vim.fn.fnameescape(i.path .. "/SKILL.md"))
    end
  end,
  o = function()
    local i = current()
    if i then
      vim.cmd("edit " .. vim.fn.fnameescape(i.path))
    end
  end,
  u = function()
    local i = current()
    if i then
      M.upgrade({ i.name }, i.target)
    end
  end,
  U = function()
    M.upgrade({}, nil)
  end,
  r = function()
    local i = current()
    if i then
      M.request("POST", "/v1/rollback", { name = i.name, path = i.path }, changed("roll back " .. i.name))
    end
  end,
  p = function()
    local i = current()
    if i then
      M.request("POST", "/v1/pin", { name = i.name, path = i.path, pinned = not i.pinned }, changed("pin " .. i.name))
    end
  end,
  d = function()
    local i = current()
    if i and vim.fn.confirm("Remove " .. i.name .. " from " .. vim.fn.fnamemodify(i.path, ":h") .. "?", "&Remove\n&Cancel", 2) == 1 then
      M.request("POST", "/v1/remove", { name = i.name, path = i.path }, changed("remove " .. i.name))
    end
  end,
  h = function()
    local i = current()
    if i then
      M.history(i.name)
    end
  end,
  i = function()
    vim.ui.input({ prompt = "Install (OCI reference): " }, function(ref)
      if ref and ref ~= "" then
        M.install(vim.trim(ref))
      end
    end)
  end,
  R = function()
    M.refresh(nil, true)
  end,
}

--- Open (or show) the skills buffer.
function M.open()
  if not (state.buf and vim.api.nvim_buf_is_valid(state.buf)) then
    state.buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(state.buf, "skilld://skills")
    vim.bo[state.buf].buftype = "nofile"
    vim.bo[state.buf].bufhidden = "hide"
    vim.bo[state.buf].swapfile = false
    vim.bo[state.buf].filetype = "skilld"
    for key, f in pairs(actions) do
      vim.keymap.set("n", key, f, { buffer = state.buf, nowait = true, silent = true })
    end
  end
  vim.api.nvim_set_current_buf(state.buf)
  M.refresh(nil, true)
  return state.buf
end

--- Show the history of `skill` in a scratch buffer, newest first.
function M.history(skill)
  M.request("GET", "/v1/history?skill=" .. skill, nil, function(err, value)
    if err then
      return notify(err, vim.log.levels.ERROR)
    end
    local lines = { "History of " .. skill .. ", newest first:" }
    for n = #value.entries, 1, -1 do
      local e = value.entries[n]
      local versions = (present(e.from_version) or present(e.to_version))
          and ("  " .. (present(e.from_version) and e.from_version or "-") .. " -> " .. (present(e.to_version) and e.to_version or "-"))
        or ""
      table.insert(lines, ("%s  %-9s %-8s %-8s by %s%s"):format(e.at, e.action, e.target, e.outcome, e.actor, versions))
    end
    vim.cmd("new")
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype = "nofile"
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
  end)
end

--- Validate the skill folder `folder`; diagnostics on its loaded buffers.
function M.validate(folder, cb)
  M.request("POST", "/v1/validate", { path = folder }, function(err, value)
    if err then
      if cb then
        cb(err)
      end
      return
    end
    local by_file = M.diagnostics(folder, value.problems)
    for _, name in ipairs({ "SKILL.md", "skill.yaml" }) do
      by_file[folder .. "/" .. name] = by_file[folder .. "/" .. name] or {}
    end
    for file, items in pairs(by_file) do
      local buf = vim.fn.bufnr(file)
      if buf ~= -1 then
        vim.diagnostic.set(ns, buf, items)
      end
    end
    if cb then
      cb(nil, value)
    end
  end)
end

local follower
--- Set the plugin up: `opts` override M.config. Follows the event stream
--- (notifications, a refresh of an open buffer) and validates SKILL.md and
--- skill.yaml on save.
function M.setup(opts)
  M.config = vim.tbl_extend("force", M.config, opts or {})
  if follower then
    follower.stop()
    follower = nil
  end
  if M.config.notify then
    follower = M.follow(function(event, fresh)
      local msg, level = M.notification(event)
      if fresh and msg then
        notify(msg, level)
      end
      if state.buf and vim.api.nvim_buf_is_valid(state.buf) and event.kind ~= "check_started" then
        M.refresh()
      end
    end)
  end
  local group = vim.api.nvim_create_augroup("skilld", { clear = true })
  if M.config.validate_on_save then
    vim.api.nvim_create_autocmd("BufWritePost", {
      group = group,
      pattern = { "SKILL.md", "skill.yaml" },
      callback = function(args)
        M.validate(vim.fn.fnamemodify(args.file, ":p:h"))
      end,
    })
  end
end

M.namespace = ns
M.actions = actions
M.state = state

return M
