-- The Neovim plugin in a real headless Neovim against a real skilld daemon
-- and registry, started by the Rust harness (tests/tests/editors.rs), which
-- runs: nvim --headless -u NONE --cmd 'set rtp+=editors/nvim'
--        -c 'runtime plugin/skilld.lua' -c 'luafile editors/nvim/test/test.lua'
-- with SKILLD_HOME and HOME set, SKILLC (the binary), REPO (a registry
-- repository holding hello-world 1.0.0 and 1.1.0, published), INVALID_SKILL
-- (a folder with known problems). Prints one line per check; exits 1 on a
-- failure.

local skilld = require("skilld")
local http = require("skilld.http")

local failures, passed = {}, 0
local function say(line)
  io.stdout:write(line .. "\n")
end
local function check(name, f)
  local ok, err = pcall(f)
  if ok then
    passed = passed + 1
    say("ok   " .. name)
  else
    table.insert(failures, name)
    say("FAIL " .. name .. ": " .. tostring(err))
  end
end
local function eq(a, b, what)
  if a ~= b then
    error((what or "value") .. ": expected " .. vim.inspect(b) .. ", got " .. vim.inspect(a), 2)
  end
end
local function truthy(v, what)
  if not v then
    error(what or "expected a true value", 2)
  end
end
--- Run `start(done)` and wait for done(err, value); the value.
local function await(start, ms)
  local finished, e, v = false, nil, nil
  start(function(err, value)
    finished, e, v = true, err, value
  end)
  truthy(vim.wait(ms or 20000, function()
    return finished
  end, 20), "timed out")
  if e then
    error(e, 2)
  end
  return v
end
local function wait_for(what, pred, ms)
  truthy(vim.wait(ms or 20000, pred, 20), "timed out waiting for " .. what)
end
local function read(path)
  local f = io.open(path)
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  return text
end
local function skillc(...)
  local out = vim.fn.system(vim.list_extend({ vim.env.SKILLC }, { ... }))
  eq(vim.v.shell_error, 0, "skillc " .. table.concat({ ... }, " ") .. ": " .. out)
  return out
end

local repo = vim.env.REPO
local notes = {}
vim.notify = function(msg, level)
  table.insert(notes, { msg = msg, level = level })
end
local confirm = vim.fn.confirm
vim.fn.confirm = function()
  return 1
end

check("the socket is found where skillc finds it", function()
  eq(http.default_socket({ SKILLD_SOCKET = "/s/x.sock" }), "/s/x.sock")
  eq(http.default_socket({ SKILLD_HOME = "/h" }), "/h/run/skilld.sock")
  eq(http.default_socket({ XDG_RUNTIME_DIR = "/run/user/7" }), "/run/user/7/skilld/skilld.sock")
  eq(http.default_socket({ HOME = "/home/u", XDG_RUNTIME_DIR = "rel" }), "/home/u/.local/share/skilld/run/skilld.sock")
end)

check("status answers in this plugin's protocol", function()
  local s = await(function(done)
    skilld.request("GET", "/v1/status", nil, done)
  end)
  eq(s.protocol, http.PROTOCOL, "protocol")
end)

check("another protocol is told, not misread", function()
  http.PROTOCOL = http.PROTOCOL + 1
  local ok, err = pcall(await, function(done)
    skilld.request("GET", "/v1/status", nil, done)
  end)
  http.PROTOCOL = http.PROTOCOL - 1
  truthy(not ok and err:find("update skilld"), tostring(err))
end)

check("a daemon's error keeps its code", function()
  local ok, err = pcall(await, function(done)
    skilld.stream("/v1/install", { reference = repo .. ":9.9.9", output = vim.env.WORK .. "/never" }, nil, done)
  end)
  truthy(not ok and err:find("^not_found: "), tostring(err))
end)

skilld.setup({})
local installed
check(":SkillsInstall installs, with a notification", function()
  vim.cmd("SkillsInstall " .. repo .. ":1.0.0")
  wait_for("the install", function()
    for _, n in ipairs(notes) do
      if n.msg:find("^installed hello%-world 1%.0%.0") then
        return true
      end
    end
  end)
  local list = await(function(done)
    skilld.request("POST", "/v1/installs", {}, done)
  end)
  installed = list.installs[1]
  eq(installed.name, "hello-world")
  truthy(read(installed.path .. "/SKILL.md"), "SKILL.md on disk")
end)

local buf
local function line_of(name)
  for n, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if l:find("^  " .. name:gsub("%-", "%%-") .. "  ") then
      return n, l
    end
  end
end

check(":Skills lists the install grouped by folder, with its upgrade", function()
  vim.cmd("Skills")
  buf = vim.api.nvim_get_current_buf()
  eq(vim.api.nvim_buf_get_name(buf), "skilld://skills")
  wait_for("the listing", function()
    local _, l = line_of("hello-world")
    return l ~= nil and l:find("1%.0%.0 ↑ 1%.1%.0") ~= nil
  end)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local n = line_of("hello-world")
  eq(lines[n - 1], installed.target .. "  " .. vim.fn.fnamemodify(installed.path, ":h"), "group line")
  eq(vim.bo[buf].modifiable, false, "read-only")
  vim.fn.writefile(lines, vim.env.WORK .. "/skills-buffer.txt")
end)

check("an available upgrade is notified from the event stream", function()
  skillc("policy", "hello-world", "notify")
  await(function(done)
    skilld.request("POST", "/v1/check", nil, done)
  end)
  wait_for("the notification", function()
    for _, n in ipairs(notes) do
      if n.msg:find("hello%-world %(" .. installed.target .. "%) can be upgraded to 1%.1%.0") and n.level == vim.log.levels.INFO then
        return true
      end
    end
  end)
end)

local function on(name, key)
  vim.api.nvim_set_current_buf(buf)
  local n = line_of(name)
  truthy(n, name .. " is listed")
  vim.api.nvim_win_set_cursor(0, { n, 0 })
  skilld.actions[key]()
end

check("u upgrades the skill on the cursor: the folder changes", function()
  on("hello-world", "u")
  wait_for("skill.yaml at 1.1.0", function()
    return (read(installed.path .. "/skill.yaml") or ""):find("version: 1%.1%.0") ~= nil
  end)
  wait_for("the buffer at 1.1.0", function()
    local _, l = line_of("hello-world")
    return l and l:find("  1%.1%.0") and not l:find("↑")
  end)
end)

check("r rolls back, p pins", function()
  on("hello-world", "r")
  wait_for("1.0.0 again", function()
    return (read(installed.path .. "/skill.yaml") or ""):find("version: 1%.0%.0") ~= nil
  end)
  wait_for("the buffer at 1.0.0", function()
    local _, l = line_of("hello-world")
    return l and l:find("1%.0%.0") ~= nil
  end)
  on("hello-world", "p")
  wait_for("pinned", function()
    local _, l = line_of("hello-world")
    return l and l:find("pinned") ~= nil and not l:find("↑")
  end)
end)

check("a refresh answered late does not undo a newer one", function()
  local real, pending = skilld.request, {}
  skilld.request = function(_, _, _, cb)
    table.insert(pending, cb)
  end
  local ok, err = pcall(function()
    local done = 0
    local function counted()
      done = done + 1
    end
    local function answer(pinned)
      local i = {}
      for k, v in pairs(installed) do
        i[k] = v
      end
      i.version, i.latest, i.status, i.pinned = "1.0.0", "1.1.0", "ok", pinned
      return { installs = { i } }
    end
    skilld.refresh(counted, true) -- asks the registries: answers last
    skilld.refresh(counted) -- started later, answered first
    eq(#pending, 2, "requests made")
    pending[2](nil, answer(true))
    pending[1](nil, answer(false))
    eq(done, 2, "callbacks called")
    local _, l = line_of("hello-world")
    truthy(l and l:find("pinned"), "the newer answer stays shown: " .. tostring(l))
  end)
  skilld.request = real
  if not ok then
    error(err, 0)
  end
  await(function(done)
    skilld.refresh(done, true)
  end)
end)

check("<CR> opens SKILL.md", function()
  on("hello-world", "<CR>")
  eq(vim.api.nvim_buf_get_name(0), installed.path .. "/SKILL.md")
end)

check("d removes (after asking)", function()
  vim.cmd("Skills")
  on("hello-world", "d")
  wait_for("the folder gone", function()
    return vim.fn.isdirectory(installed.path) == 0
  end)
  wait_for("the line gone", function()
    return line_of("hello-world") == nil
  end)
end)

check("saving SKILL.md shows validation problems as diagnostics", function()
  local folder = vim.env.INVALID_SKILL
  vim.cmd("edit " .. vim.fn.fnameescape(folder .. "/SKILL.md"))
  local b = vim.api.nvim_get_current_buf()
  vim.cmd("write")
  wait_for("diagnostics", function()
    return #vim.diagnostic.get(b, { namespace = skilld.namespace }) > 0
  end)
  local r = await(function(done)
    skilld.request("POST", "/v1/validate", { path = folder }, done)
  end)
  local want = 0
  for _, p in ipairs(r.problems) do
    if p.file == "SKILL.md" or p.file == "" then
      want = want + 1
    end
  end
  local got = vim.diagnostic.get(b, { namespace = skilld.namespace })
  eq(#got, want, "one diagnostic per SKILL.md problem")
  local first = r.problems[1]
  if first.line ~= vim.NIL then
    local found = false
    for _, d in ipairs(got) do
      found = found or (d.lnum == first.line - 1 and d.message:find(first.message, 1, true) ~= nil)
    end
    truthy(found, "the first problem at its line")
  end
end)

check("the event stream comes back after the daemon restarts", function()
  local states = {}
  local events = {}
  local follower = skilld.follow(function(e)
    table.insert(events, e)
  end, function(up)
    table.insert(states, up)
  end, 500)
  wait_for("connected", function()
    return states[1] == true
  end)
  skillc("daemon", "stop")
  wait_for("the loss", function()
    return vim.tbl_contains(states, false)
  end)
  skillc("daemon", "start")
  wait_for("reconnected", function()
    return states[#states] == true and #states >= 3
  end)
  await(function(done)
    skilld.stream("/v1/install", { reference = repo .. ":1.1.0", output = vim.env.WORK .. "/after" }, nil, done)
  end)
  wait_for("an event from the new daemon", function()
    for _, e in ipairs(events) do
      if e.kind == "installed" and e.target == "dir" then
        return true
      end
    end
  end)
  follower.stop()
end)

check("a request with no daemon running starts one through skillc", function()
  skillc("daemon", "stop")
  skilld.config.skillc = vim.env.SKILLC
  local s = await(function(done)
    skilld.request("GET", "/v1/status", nil, done)
  end)
  eq(s.protocol, http.PROTOCOL, "the started daemon answers")
  skilld.config.autostart = false
  skillc("daemon", "stop")
  local ok, err = pcall(await, function(done)
    skilld.request("GET", "/v1/status", nil, done)
  end)
  truthy(not ok and err:find("^no skilld daemon answers"), tostring(err))
end)

vim.fn.confirm = confirm
say(("%d passed, %d failed"):format(passed, #failures))
if #failures > 0 then
  vim.cmd("cquit 1")
else
  vim.cmd("qall!")
end
