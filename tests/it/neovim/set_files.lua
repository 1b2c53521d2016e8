-- Drives `relance lsp` with Neovim's built-in LSP client, headless, on the files of a set that
-- are not scenarios; run by tests/it/neovim.rs. It opens the scenario RELANCE_FILE, records every
-- `textDocument/publishDiagnostics` the client receives (by file name under the set), waits for
-- the diagnostics of the template RELANCE_TEMPLATE and the rules file RELANCE_RULES (neither of
-- them open), then opens the rules file in a second buffer, replaces its text with
-- RELANCE_RULES_FORBIDDEN (the client sends didChange), waits for the new diagnostics as the
-- client stores them on that buffer, then with RELANCE_RULES_FIXED and waits for them to clear.
-- It writes what it saw as JSON to RELANCE_RESULT and judges nothing (the Rust test does).
-- Bounded: every wait has a timeout, and a watchdog kills the server by pid and quits with
-- status 3.

local bin = assert(os.getenv('RELANCE_BIN'), 'RELANCE_BIN')
local file = assert(os.getenv('RELANCE_FILE'), 'RELANCE_FILE')
local template = assert(os.getenv('RELANCE_TEMPLATE'), 'RELANCE_TEMPLATE')
local rules = assert(os.getenv('RELANCE_RULES'), 'RELANCE_RULES')
local forbidden = assert(os.getenv('RELANCE_RULES_FORBIDDEN'), 'RELANCE_RULES_FORBIDDEN')
local fixed = assert(os.getenv('RELANCE_RULES_FIXED'), 'RELANCE_RULES_FIXED')
local result_path = assert(os.getenv('RELANCE_RESULT'), 'RELANCE_RESULT')
local pid_path = assert(os.getenv('RELANCE_SERVER_PID'), 'RELANCE_SERVER_PID')
local WAIT_MS = 10000

local out = { nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) }
local server_pid = nil
-- The last diagnostics published per file path (as the server named it), in arrival order.
local published = {}

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function finish(code)
  out.published = published
  write(result_path, vim.fn.json_encode(out))
  if code == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. code)
  end
end

local function lines(text)
  local list = vim.split(text, '\n', { plain = true })
  if list[#list] == '' then
    table.remove(list)
  end
  return list
end

-- What the client stores for a buffer: code, 0-based line and column, message.
local function stored(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(list, { code = d.code or lsp.code, line = d.lnum, col = d.col, message = d.message })
  end
  return list
end

local watchdog = vim.loop.new_timer()
watchdog:start(60000, 0, vim.schedule_wrap(function()
  out.error = 'timed out after 60 s'
  if server_pid then
    vim.loop.kill(server_pid, 9)
  end
  finish(3)
end))

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local on_publish = vim.lsp.handlers['textDocument/publishDiagnostics']
  local config = {
    name = 'relance',
    cmd = { bin, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
    handlers = {
      ['textDocument/publishDiagnostics'] = function(e, result, ctx, cfg)
        local list = {}
        for _, d in ipairs(result.diagnostics or {}) do
          table.insert(list, {
            code = d.code,
            line = d.range.start.line,
            col = d.range.start.character,
            message = d.message,
          })
        end
        published[vim.uri_to_fname(result.uri)] = list
        return on_publish(e, result, ctx, cfg)
      end,
    },
  }
  local id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(buf, id)
  local client = assert(vim.lsp.get_client_by_id(id), 'the client started')
  server_pid = client.rpc and client.rpc.pid
  if server_pid then
    write(pid_path, tostring(server_pid))
  end
  assert(vim.wait(WAIT_MS, function() return client.initialized end, 20), 'initialize')

  -- The set's other files, not open: their diagnostics arrive with the scenario's.
  assert(vim.wait(WAIT_MS, function()
    return published[template] ~= nil and published[rules] ~= nil
  end, 20), 'diagnostics of the template and the rules file')
  out.template = published[template]
  out.rules_closed = published[rules]

  -- The rules file opened and edited in Neovim: a forbidden call, then fixed.
  vim.cmd('edit ' .. vim.fn.fnameescape(rules))
  local rbuf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(rbuf, id)
  vim.api.nvim_buf_set_lines(rbuf, 0, -1, false, lines(forbidden))
  assert(vim.wait(WAIT_MS, function()
    local now = stored(rbuf)
    return #now > 0 and now[1].code ~= out.rules_closed[1].code
  end, 20), 'diagnostics of the forbidden call')
  out.rules_forbidden = stored(rbuf)
  vim.api.nvim_buf_set_lines(rbuf, 0, -1, false, lines(fixed))
  out.rules_cleared = vim.wait(WAIT_MS, function() return #stored(rbuf) == 0 end, 20)
  out.scenario_after = stored(buf)

  client.stop()
  out.stopped = vim.wait(WAIT_MS, function() return client.is_stopped() end, 20)
end)

watchdog:stop()
if not ok then
  out.error = tostring(err)
  if server_pid then
    vim.loop.kill(server_pid, 9)
  end
  finish(2)
else
  finish(0)
end
