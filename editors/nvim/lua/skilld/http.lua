-- HTTP/1.1 over the skilld daemon's Unix socket, with nothing but vim.loop:
-- one-shot JSON requests, NDJSON streams (build, install, upgrade, events),
-- chunked or sized bodies. Callbacks run in the main loop (vim.schedule).

local uv = vim.loop

local M = {}

--- The wire protocol this client speaks (`skilld-protocol`).
M.PROTOCOL = 1

--- The daemon's socket, found as skillc finds it: SKILLD_SOCKET,
--- SKILLD_HOME/run, $XDG_RUNTIME_DIR/skilld, then the data folder's run/.
function M.default_socket(env)
  env = env or vim.env
  local function abs(v)
    if v and v ~= "" and v:sub(1, 1) == "/" then
      return v
    end
  end
  if env.SKILLD_SOCKET and env.SKILLD_SOCKET ~= "" then
    return env.SKILLD_SOCKET
  end
  if abs(env.SKILLD_HOME) then
    return env.SKILLD_HOME .. "/run/skilld.sock"
  end
  if abs(env.XDG_RUNTIME_DIR) then
    return env.XDG_RUNTIME_DIR .. "/skilld/skilld.sock"
  end
  local data = abs(env.XDG_DATA_HOME)
  if not data then
    local home = env.HOME or ""
    if vim.fn.has("mac") == 1 then
      data = home .. "/Library/Application Support"
    else
      data = home .. "/.local/share"
    end
  end
  return data .. "/skilld/run/skilld.sock"
end

-- Reads a response as it arrives: the head, then the body (chunked or
-- sized); `on_body(bytes)` for each piece of body, `on_head(status, headers)`
-- once.
local function parser(on_head, on_body)
  local buffered, head, chunked, left = "", nil, false, nil
  return function(data)
    buffered = buffered .. data
    if not head then
      local at = buffered:find("\r\n\r\n", 1, true)
      if not at then
        return
      end
      local lines = vim.split(buffered:sub(1, at - 1), "\r\n", { plain = true })
      buffered = buffered:sub(at + 4)
      local status = tonumber(lines[1]:match("^HTTP/1%.%d (%d+)"))
      local headers = {}
      for i = 2, #lines do
        local k, v = lines[i]:match("^([^:]+):%s*(.*)$")
        if k then
          headers[k:lower()] = v
        end
      end
      head = true
      chunked = (headers["transfer-encoding"] or ""):lower():find("chunked") ~= nil
      left = tonumber(headers["content-length"] or "")
      on_head(status, headers)
    end
    if not chunked then
      if #buffered > 0 then
        on_body(buffered)
        buffered = ""
      end
      return
    end
    while true do
      local eol = buffered:find("\r\n", 1, true)
      if not eol then
        return
      end
      local size = tonumber(buffered:sub(1, eol - 1):match("^%x+"), 16)
      if not size then
        return
      end
      if size == 0 then
        buffered = ""
        return
      end
      if #buffered < eol + 1 + size + 2 then
        return
      end
      on_body(buffered:sub(eol + 2, eol + 1 + size))
      buffered = buffered:sub(eol + size + 4)
    end
  end, function()
    return left
  end
end

--- Send `method path` with the JSON `body` (or nil). `handlers`:
---   on_head(status, headers)  once;
---   on_line(line)             each NDJSON line, when `stream`;
---   on_done(err, text)        at the end: the whole body (not `stream`).
--- Returns a handle with :close().
function M.send(socket, method, path, body, stream, handlers)
  local pipe = uv.new_pipe(false)
  local text, pending = {}, ""
  local finished = false
  local function finish(err)
    if finished then
      return
    end
    finished = true
    if not pipe:is_closing() then
      pipe:close()
    end
    if handlers.on_done then
      vim.schedule(function()
        handlers.on_done(err, table.concat(text))
      end)
    end
  end
  local feed = parser(function(status, headers)
    if handlers.on_head then
      vim.schedule(function()
        handlers.on_head(status, headers)
      end)
    end
  end, function(piece)
    if not stream then
      table.insert(text, piece)
      return
    end
    pending = pending .. piece
    while true do
      local nl = pending:find("\n", 1, true)
      if not nl then
        break
      end
      local line = vim.trim(pending:sub(1, nl - 1))
      pending = pending:sub(nl + 1)
      if line ~= "" and handlers.on_line then
        vim.schedule(function()
          handlers.on_line(line)
        end)
      end
    end
  end)
  pipe:connect(socket, function(err)
    if err then
      return finish("no skilld daemon answers on " .. socket .. " (" .. err .. ")")
    end
    local payload = body and vim.json.encode(body) or ""
    local request = table.concat({
      method .. " " .. path .. " HTTP/1.1",
      "Host: skilld",
      "Connection: close",
      "Accept: " .. (stream and "application/x-ndjson" or "application/json"),
      "Content-Type: application/json",
      "Content-Length: " .. #payload,
      "",
      payload,
    }, "\r\n")
    pipe:write(request)
    pipe:read_start(function(rerr, data)
      if rerr then
        return finish(rerr)
      end
      if data then
        feed(data)
      else
        finish(nil)
      end
    end)
  end)
  return {
    close = function()
      finished = true
      if not pipe:is_closing() then
        pipe:close()
      end
    end,
  }
end

return M
